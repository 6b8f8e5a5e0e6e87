//! The event-order grammar of [`Expect::pattern`](super::Expect::pattern) (parsed by `ws-test-pattern`, which
//! the attribute shares), compiled to a position automaton.
//!
//! The automaton is Glushkov's: one state per occurrence of a name, no epsilon moves, so a step costs one
//! union of follow sets and one intersection with the positions the event matches: linear in the frames.

#[cfg(test)]
use ws_test_pattern::MAX_DEPTH;
pub(crate) use ws_test_pattern::{Node, parse};

/// A fixed-size set of small integers. The first 64 live inline, so the sets of nearly every pattern need no
/// heap memory (and no extra cache miss per frame).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct BitSet {
    head: u64,
    tail: Box<[u64]>,
}

impl BitSet {
    pub(crate) fn new(size: usize) -> Self {
        BitSet {
            head: 0,
            tail: vec![0; size.div_ceil(64).saturating_sub(1)].into_boxed_slice(),
        }
    }

    fn word_mut(&mut self, index: usize) -> &mut u64 {
        if index == 0 {
            &mut self.head
        } else {
            &mut self.tail[index - 1]
        }
    }

    fn words(&self) -> impl Iterator<Item = u64> + '_ {
        std::iter::once(self.head).chain(self.tail.iter().copied())
    }

    fn combine(&mut self, other: &BitSet, op: impl Fn(u64, u64) -> u64) {
        self.head = op(self.head, other.head);
        for (word, other) in self.tail.iter_mut().zip(other.tail.iter()) {
            *word = op(*word, *other);
        }
    }

    /// The set when it fits one word.
    pub(crate) fn single(&self) -> Option<u64> {
        self.tail.is_empty().then_some(self.head)
    }

    pub(crate) fn set_single(&mut self, word: u64) {
        self.head = word;
    }

    pub(crate) fn insert(&mut self, bit: usize) {
        *self.word_mut(bit / 64) |= 1 << (bit % 64);
    }

    pub(crate) fn remove(&mut self, bit: usize) {
        *self.word_mut(bit / 64) &= !(1 << (bit % 64));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.words().all(|word| word == 0)
    }

    pub(crate) fn clear(&mut self) {
        self.head = 0;
        self.tail.iter_mut().for_each(|word| *word = 0);
    }

    pub(crate) fn copy_from(&mut self, other: &BitSet) {
        self.combine(other, |_, theirs| theirs);
    }

    pub(crate) fn union_with(&mut self, other: &BitSet) {
        self.combine(other, |ours, theirs| ours | theirs);
    }

    pub(crate) fn intersect_with(&mut self, other: &BitSet) {
        self.combine(other, |ours, theirs| ours & theirs);
    }

    pub(crate) fn intersects(&self, other: &BitSet) -> bool {
        self.words().zip(other.words()).any(|(a, b)| a & b != 0)
    }

    /// Whether every bit of `self` is also in `other`.
    pub(crate) fn is_subset(&self, other: &BitSet) -> bool {
        self.words().zip(other.words()).all(|(a, b)| a & !b == 0)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words().enumerate().flat_map(|(w, word)| {
            let mut bits = word;
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let bit = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                Some(w * 64 + bit)
            })
        })
    }
}

/// A Glushkov automaton: states are the start plus one per position (occurrence of a name).
#[derive(Debug, Clone)]
pub(crate) struct Automaton {
    /// The event type of each position.
    pub(crate) names: Vec<String>,
    /// Positions reachable from the start.
    pub(crate) first: BitSet,
    /// Positions reachable from each position.
    pub(crate) follow: Vec<BitSet>,
    /// Positions where a match may end.
    pub(crate) last: BitSet,
    /// Whether the empty sequence matches.
    pub(crate) nullable: bool,
    /// Whether it was built from a plain list (positions in order, each followed by the next).
    pub(crate) chain: bool,
}

struct Sets {
    nullable: bool,
    first: Vec<usize>,
    last: Vec<usize>,
}

impl Automaton {
    /// The automaton of a plain sequence of names.
    pub(crate) fn chain(names: Vec<String>) -> Self {
        let size = names.len();
        let mut first = BitSet::new(size);
        let mut last = BitSet::new(size);
        let mut follow = vec![BitSet::new(size); size];
        if size > 0 {
            first.insert(0);
            last.insert(size - 1);
        }
        for (position, next) in follow.iter_mut().enumerate() {
            if position + 1 < size {
                next.insert(position + 1);
            }
        }
        Automaton {
            names,
            first,
            follow,
            last,
            nullable: size == 0,
            chain: true,
        }
    }

    /// The automaton of a pattern's syntax tree.
    pub(crate) fn from_node(node: &Node) -> Self {
        let mut names = Vec::new();
        let mut follow_lists: Vec<Vec<usize>> = Vec::new();
        let sets = Self::build(node, &mut names, &mut follow_lists);
        let size = names.len();
        let to_set = |items: &[usize]| {
            let mut set = BitSet::new(size);
            items.iter().for_each(|&item| set.insert(item));
            set
        };
        Automaton {
            first: to_set(&sets.first),
            last: to_set(&sets.last),
            follow: follow_lists.iter().map(|list| to_set(list)).collect(),
            names,
            nullable: sets.nullable,
            chain: false,
        }
    }

    fn build(node: &Node, names: &mut Vec<String>, follow: &mut Vec<Vec<usize>>) -> Sets {
        let link = |follow: &mut Vec<Vec<usize>>, from: &[usize], to: &[usize]| {
            for &position in from {
                for &next in to {
                    if !follow[position].contains(&next) {
                        follow[position].push(next);
                    }
                }
            }
        };
        match node {
            Node::Name(name) => {
                names.push(name.clone());
                follow.push(Vec::new());
                let position = names.len() - 1;
                Sets {
                    nullable: false,
                    first: vec![position],
                    last: vec![position],
                }
            }
            Node::Concat(items) => {
                let mut whole = Sets {
                    nullable: true,
                    first: Vec::new(),
                    last: Vec::new(),
                };
                for item in items {
                    let part = Self::build(item, names, follow);
                    link(follow, &whole.last, &part.first);
                    if whole.nullable {
                        whole.first.extend(&part.first);
                    }
                    if part.nullable {
                        whole.last.extend(&part.last);
                    } else {
                        whole.last = part.last;
                    }
                    whole.nullable &= part.nullable;
                }
                whole
            }
            Node::Alt(options) => {
                let mut whole = Sets {
                    nullable: false,
                    first: Vec::new(),
                    last: Vec::new(),
                };
                for option in options {
                    let part = Self::build(option, names, follow);
                    whole.nullable |= part.nullable;
                    whole.first.extend(part.first);
                    whole.last.extend(part.last);
                }
                whole
            }
            Node::Star(inner) | Node::Plus(inner) | Node::Optional(inner) => {
                let mut part = Self::build(inner, names, follow);
                if !matches!(node, Node::Optional(_)) {
                    link(follow, &part.last, &part.first);
                }
                if !matches!(node, Node::Plus(_)) {
                    part.nullable = true;
                }
                part
            }
        }
    }

    /// Number of positions.
    pub(crate) fn size(&self) -> usize {
        self.names.len()
    }

    /// The positions that may come next from `(start_active, positions)`.
    pub(crate) fn next_into(&self, start_active: bool, positions: &BitSet, out: &mut BitSet) {
        if let (Some(mut bits), Some(first)) = (positions.single(), self.first.single()) {
            // One word (up to 64 positions, nearly every pattern): no iterator machinery in the hot path.
            let mut next = if start_active { first } else { 0 };
            while bits != 0 {
                next |= self.follow[bits.trailing_zeros() as usize].head;
                bits &= bits - 1;
            }
            out.set_single(next);
            return;
        }
        out.clear();
        if start_active {
            out.union_with(&self.first);
        }
        for position in positions.iter() {
            out.union_with(&self.follow[position]);
        }
    }

    /// Whether `(start_active, positions)` holds a complete match.
    pub(crate) fn accepts(&self, start_active: bool, positions: &BitSet) -> bool {
        (start_active && self.nullable) || positions.intersects(&self.last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, input: &[&str]) -> bool {
        let automaton = Automaton::from_node(&parse(pattern).unwrap());
        let mut start = true;
        let mut set = BitSet::new(automaton.size());
        let mut next = BitSet::new(automaton.size());
        for name in input {
            automaton.next_into(start, &set, &mut next);
            let mut mask = BitSet::new(automaton.size());
            for (position, candidate) in automaton.names.iter().enumerate() {
                if candidate == name {
                    mask.insert(position);
                }
            }
            next.intersect_with(&mask);
            std::mem::swap(&mut set, &mut next);
            start = false;
        }
        automaton.accepts(start, &set)
    }

    #[test]
    fn nesting_is_limited_in_groups_and_repetitions_alike() {
        let deep = |n: usize| format!("{}a{}", "(".repeat(n), ")".repeat(n));
        assert!(parse(&deep(MAX_DEPTH)).is_ok());
        let error = parse(&deep(100_000)).unwrap_err();
        assert_eq!(error.column, MAX_DEPTH + 1);
        assert!(error.reason.contains("deeper than 64 levels"), "{error}");
        assert!(parse(&format!("a{}", "*".repeat(MAX_DEPTH))).is_ok());
        let error = parse(&format!("a{}", "*".repeat(100_000))).unwrap_err();
        assert!(error.reason.contains("deeper than 64 levels"), "{error}");
        // Together: groups inside repetitions inside groups.
        assert!(parse(&"(a*)".repeat(1000)).is_ok(), "siblings do not nest");
        assert!(parse(&format!("{}a{}", "(".repeat(40), ")*".repeat(40))).is_ok());
        assert!(parse(&format!("{}a{}", "(".repeat(70), ")*".repeat(70))).is_err());
    }

    #[test]
    fn the_grammar_accepts_what_it_should() {
        let p = "agent_started agent_thinking* (tool_executing tool_completed)+ agent_completed";
        assert!(matches(
            p,
            &["agent_started", "tool_executing", "tool_completed", "agent_completed"]
        ));
        assert!(matches(
            p,
            &[
                "agent_started",
                "agent_thinking",
                "agent_thinking",
                "tool_executing",
                "tool_completed",
                "tool_executing",
                "tool_completed",
                "agent_completed"
            ]
        ));
        assert!(!matches(p, &["agent_started", "agent_completed"]));
        assert!(!matches(p, &["agent_started", "tool_executing", "agent_completed"]));
        assert!(matches("a (b | c)? d", &["a", "d"]));
        assert!(matches("a (b | c)? d", &["a", "c", "d"]));
        assert!(!matches("a (b | c)? d", &["a", "b", "c", "d"]));
        assert!(matches("a*", &[]));
        assert!(matches("(a b)* c", &["a", "b", "a", "b", "c"]));
    }

    #[test]
    fn errors_point_at_the_column() {
        let error = parse("agent_started (tool_executing").unwrap_err();
        assert_eq!(error.column, 15);
        assert_eq!(error.reason, "this `(` is never closed");
        assert_eq!(
            error.to_string(),
            "invalid event pattern at column 15: this `(` is never closed\n    agent_started (tool_executing\n                  ^"
        );
        assert_eq!(parse("a | | b").unwrap_err().column, 5);
        assert_eq!(parse("a )").unwrap_err().column, 3);
        assert_eq!(parse("* a").unwrap_err().column, 1);
        assert_eq!(parse("a ()").unwrap_err().column, 4);
        assert_eq!(parse("a, b").unwrap_err().column, 2);
        assert_eq!(parse("   ").unwrap_err().column, 4);
        assert_eq!(parse("a |").unwrap_err().column, 4);
    }

    #[test]
    fn patterns_print_back_in_their_own_syntax() {
        for source in ["a b* (c d)+ e", "a | b c", "(a | b)? c", "a"] {
            let printed = parse(source).unwrap().to_string();
            assert_eq!(parse(&printed).unwrap(), parse(source).unwrap(), "{source} → {printed}");
        }
    }
}
