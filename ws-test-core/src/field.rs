//! [`Field`]: where a JSON frame holds a value ws-test reads — the event's name (`"type"`, `"method"`,
//! `"event"`), a run's key (`"run_id"`, `"/params/subscription"`) — named by a key or by a JSON pointer.

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;

/// A field of a JSON frame: a top-level key (`"type"`) or a JSON pointer (RFC 6901, `"/params/subscription"`,
/// `"/data/kind"`). Every place that names a field takes either spelling: an [`Expectation`]'s event key,
/// `per` and `pair` keys, the client's event key, `#[ws_test(event_key = ..., per = ...)]`.
///
/// [`Expectation`]: crate::expect::Expectation
///
/// ```
/// use ws_test_runtime::Field;
/// use ws_test_runtime::prelude::*;
///
/// let frame = json!({"method": "ticks", "params": {"subscription": 7, "result": 1}});
/// assert_eq!(Field::new("method").text(&frame).as_deref(), Some("ticks"));
/// assert_eq!(Field::new("/params/subscription").text(&frame).as_deref(), Some("7"));
/// assert_eq!(Field::new("type").text(&frame), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Field {
    spelled: Box<str>,
    pointer: bool,
}

impl Field {
    /// The field named `spelled`: a JSON pointer when it starts with `/`, else a top-level key.
    pub fn new(spelled: impl Into<String>) -> Self {
        let spelled: String = spelled.into();
        Field {
            pointer: spelled.starts_with('/'),
            spelled: spelled.into_boxed_str(),
        }
    }

    /// The default event key, `"type"`.
    pub fn type_key() -> Self {
        Field::new("type")
    }

    /// The value at this field, if the frame has one.
    pub fn get<'v>(&self, frame: &'v Value) -> Option<&'v Value> {
        if self.pointer {
            frame.pointer(&self.spelled)
        } else {
            frame.get(&*self.spelled)
        }
    }

    /// The string at this field (an event's name: frames whose key is not a string are not events).
    pub fn str<'v>(&self, frame: &'v Value) -> Option<&'v str> {
        self.get(frame)?.as_str()
    }

    /// The value at this field in words, as a grouping key: a string as is, a number or boolean as written;
    /// `None` when absent or `null`.
    pub fn text<'v>(&self, frame: &'v Value) -> Option<Cow<'v, str>> {
        match self.get(frame)? {
            Value::String(text) => Some(Cow::Borrowed(text)),
            Value::Null => None,
            other => Some(Cow::Owned(other.to_string())),
        }
    }

    /// The field as it was written.
    pub fn as_str(&self) -> &str {
        &self.spelled
    }

    /// Puts `value` at this field of `frame`, making the objects a JSON pointer passes through (`"/data/kind"`
    /// sets `{"data": {"kind": ..}}`); a non-object on the way is replaced by one.
    #[doc(hidden)]
    pub fn set(&self, frame: &mut Value, value: Value) {
        if !self.pointer {
            ensure_object(frame).insert(self.spelled.to_string(), value);
            return;
        }
        let tokens: Vec<String> = self.spelled[1..]
            .split('/')
            .map(|token| token.replace("~1", "/").replace("~0", "~"))
            .collect();
        let (last, path) = tokens.split_last().expect("split yields at least one token");
        let mut at = frame;
        for token in path {
            at = ensure_object(at)
                .entry(token.clone())
                .or_insert_with(|| Value::Object(Default::default()));
        }
        ensure_object(at).insert(last.clone(), value);
    }

    /// Whether it is the default event key, `"type"`.
    #[doc(hidden)]
    pub fn is_type(&self) -> bool {
        !self.pointer && &*self.spelled == "type"
    }
}

/// `value` as an object: itself when it is one, else replaced by an empty one.
fn ensure_object(value: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !value.is_object() {
        *value = Value::Object(Default::default());
    }
    match value {
        Value::Object(map) => map,
        _ => unreachable!("made an object above"),
    }
}

impl Default for Field {
    fn default() -> Self {
        Field::type_key()
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spelled)
    }
}

impl From<&str> for Field {
    fn from(spelled: &str) -> Self {
        Field::new(spelled)
    }
}

impl From<String> for Field {
    fn from(spelled: String) -> Self {
        Field::new(spelled)
    }
}

impl From<&String> for Field {
    fn from(spelled: &String) -> Self {
        Field::new(spelled.as_str())
    }
}

impl From<&Field> for Field {
    fn from(field: &Field) -> Self {
        field.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::Field;
    use serde_json::json;

    #[test]
    fn keys_and_pointers() {
        let frame = json!({"type": "a", "n": 3, "ok": true, "none": null, "data": {"kind": "k", "a/b": 1}});
        assert_eq!(Field::new("type").str(&frame), Some("a"));
        assert_eq!(Field::new("n").text(&frame).as_deref(), Some("3"));
        assert_eq!(Field::new("ok").text(&frame).as_deref(), Some("true"));
        assert_eq!(Field::new("none").text(&frame), None);
        assert_eq!(Field::new("/data/kind").str(&frame), Some("k"));
        assert_eq!(Field::new("/data/a~1b").text(&frame).as_deref(), Some("1"));
        assert_eq!(Field::new("/data/missing").get(&frame), None);
        assert_eq!(Field::new("n").str(&frame), None, "a number is not an event name");
        assert!(Field::default().is_type() && !Field::new("/type").is_type());
    }

    #[test]
    fn setting_a_pointer_makes_the_objects_on_its_way() {
        let mut frame = json!({"id": 1});
        Field::new("/data/kind").set(&mut frame, json!("error"));
        Field::new("/a~1b").set(&mut frame, json!(2));
        Field::new("type").set(&mut frame, json!("t"));
        assert_eq!(
            frame,
            json!({"id": 1, "data": {"kind": "error"}, "a/b": 2, "type": "t"})
        );
        Field::new("/id/x").set(&mut frame, json!(3));
        assert_eq!(
            frame["id"],
            json!({"x": 3}),
            "a number on the way is replaced by an object"
        );
        assert_eq!(Field::new("/data/kind").str(&frame), Some("error"));
    }
}
