//! The event-order grammar of ws-test's `Expect::pattern` and `#[ws_test(pattern = "...")]`: the parser, in a
//! crate of its own so that the runtime (which compiles it to an automaton) and the attribute (which refuses a
//! bad pattern at compile time, on the string) share one grammar. No dependencies.
//!
//! ```text
//! pattern := alternative ('|' alternative)*
//! alternative := item+
//! item := atom ('*' | '+' | '?')*
//! atom := NAME | '(' pattern ')'
//! NAME := one or more of  A-Z a-z 0-9 _ . : - /
//! ```
//!
use std::fmt;

/// The syntax tree of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// One event, by name.
    Name(String),
    /// These, one after the other.
    Concat(Vec<Node>),
    /// One of these.
    Alt(Vec<Node>),
    /// Zero or more (`*`).
    Star(Box<Node>),
    /// One or more (`+`).
    Plus(Box<Node>),
    /// Zero or one (`?`).
    Optional(Box<Node>),
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let grouped = |f: &mut fmt::Formatter<'_>, node: &Node| match node {
            Node::Name(_) | Node::Star(_) | Node::Plus(_) | Node::Optional(_) => write!(f, "{node}"),
            _ => write!(f, "({node})"),
        };
        match self {
            Node::Name(name) => f.write_str(name),
            Node::Concat(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    match item {
                        Node::Alt(_) => write!(f, "({item})")?,
                        _ => write!(f, "{item}")?,
                    }
                }
                Ok(())
            }
            Node::Alt(options) => {
                for (i, option) in options.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" | ")?;
                    }
                    write!(f, "{option}")?;
                }
                Ok(())
            }
            Node::Star(inner) => {
                grouped(f, inner)?;
                f.write_str("*")
            }
            Node::Plus(inner) => {
                grouped(f, inner)?;
                f.write_str("+")
            }
            Node::Optional(inner) => {
                grouped(f, inner)?;
                f.write_str("?")
            }
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-' | '/')
}

struct Parser<'a> {
    source: &'a str,
    chars: Vec<char>,
    at: usize,
    /// How deeply the node being parsed nests (groups and repetitions), against [`MAX_DEPTH`].
    depth: usize,
}

/// The deepest a pattern may nest, in groups and repetition operators together: far beyond any real pattern,
/// and shallow enough that parsing, compiling and printing it never exhaust the stack.
pub const MAX_DEPTH: usize = 64;

/// Parses a pattern into its syntax tree.
pub fn parse(source: &str) -> Result<Node, PatternError> {
    let mut parser = Parser {
        source,
        chars: source.chars().collect(),
        at: 0,
        depth: 0,
    };
    parser.skip_spaces();
    if parser.at == parser.chars.len() {
        return Err(parser.error(parser.at, "the pattern is empty; name at least one event type"));
    }
    let node = parser.alternatives()?;
    parser.skip_spaces();
    match parser.peek() {
        None => Ok(node),
        Some(')') => Err(parser.error(parser.at, "this `)` has no matching `(`")),
        Some(c) => Err(parser.error(parser.at, &format!("unexpected `{c}`"))),
    }
}

impl Parser<'_> {
    fn error(&self, at: usize, reason: &str) -> PatternError {
        PatternError {
            pattern: self.source.to_owned(),
            column: at + 1,
            reason: reason.to_owned(),
        }
    }

    fn check_depth(&self, depth: usize) -> Result<(), PatternError> {
        if depth > MAX_DEPTH {
            return Err(self.error(
                self.at,
                &format!("the pattern nests deeper than {MAX_DEPTH} levels of groups and repetitions"),
            ));
        }
        Ok(())
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn alternatives(&mut self) -> Result<Node, PatternError> {
        let mut options = vec![self.sequence(false)?];
        loop {
            self.skip_spaces();
            if self.peek() != Some('|') {
                break;
            }
            self.at += 1;
            options.push(self.sequence(true)?);
        }
        Ok(if options.len() == 1 {
            options.remove(0)
        } else {
            Node::Alt(options)
        })
    }

    fn sequence(&mut self, after_bar: bool) -> Result<Node, PatternError> {
        let mut items = Vec::new();
        loop {
            self.skip_spaces();
            match self.peek() {
                None | Some('|') | Some(')') => break,
                Some(_) => items.push(self.item()?),
            }
        }
        match items.len() {
            0 => {
                let what = match self.peek() {
                    _ if after_bar => "an empty alternative: put an event type on each side of `|`",
                    None => "the pattern ends where an event type was expected",
                    Some('|') => "an empty alternative: put an event type on each side of `|`",
                    Some(_) => "an empty group: put at least one event type between `(` and `)`",
                };
                Err(self.error(self.at, what))
            }
            1 => Ok(items.remove(0)),
            _ => Ok(Node::Concat(items)),
        }
    }

    fn item(&mut self) -> Result<Node, PatternError> {
        let mut node = self.atom()?;
        let mut repeated = 0;
        while let Some(c @ ('*' | '+' | '?')) = self.peek() {
            repeated += 1;
            self.check_depth(self.depth + repeated)?;
            self.at += 1;
            node = match c {
                '*' => Node::Star(Box::new(node)),
                '+' => Node::Plus(Box::new(node)),
                _ => Node::Optional(Box::new(node)),
            };
        }
        Ok(node)
    }

    fn atom(&mut self) -> Result<Node, PatternError> {
        match self.peek() {
            Some('(') => {
                let open = self.at;
                self.check_depth(self.depth + 1)?;
                self.at += 1;
                self.skip_spaces();
                if self.peek() == Some(')') {
                    return Err(self.error(
                        self.at,
                        "an empty group: put at least one event type between `(` and `)`",
                    ));
                }
                self.depth += 1;
                let inner = self.alternatives();
                self.depth -= 1;
                let inner = inner?;
                self.skip_spaces();
                if self.peek() != Some(')') {
                    return Err(self.error(open, "this `(` is never closed"));
                }
                self.at += 1;
                Ok(inner)
            }
            Some(c @ ('*' | '+' | '?')) => {
                Err(self.error(self.at, &format!("`{c}` must follow an event type or a group")))
            }
            Some(c) if is_name_char(c) => {
                let start = self.at;
                while self.peek().is_some_and(is_name_char) {
                    self.at += 1;
                }
                Ok(Node::Name(self.chars[start..self.at].iter().collect()))
            }
            Some(c) => Err(self.error(
                self.at,
                &format!("unexpected `{c}`; event types are made of letters, digits and _ . : - /"),
            )),
            None => Err(self.error(self.at, "the pattern ends where an event type was expected")),
        }
    }
}

/// A bad pattern: what is wrong and at which column (1-based, in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// The pattern as given.
    pub pattern: String,
    /// The 1-based column of the offending character (one past the end for "unexpected end").
    pub column: usize,
    /// What is wrong, in words.
    pub reason: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid event pattern at column {}: {}", self.column, self.reason)?;
        writeln!(f, "    {}", self.pattern)?;
        write!(f, "    {}^", " ".repeat(self.column.saturating_sub(1)))
    }
}

impl std::error::Error for PatternError {}
