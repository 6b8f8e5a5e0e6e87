//! The runtime's own JSON shapes, by hand: `Serialize` for plain structs (fields in declaration order) and typed
//! reads out of a JSON object with serde's words for what is wrong.
//!
//! Why not `#[derive(Serialize, Deserialize)]`: the derive needs `serde_derive`, about 3 s of every user's clean
//! debug build, and it sits on the build's critical path (serde, then serde_json, then this crate wait for it).
//! The shapes here are few and flat, so a macro and a field reader cost less than the derive would.

use serde_core::de::DeserializeOwned;
use serde_json::{Map, Value};

/// `impl Serialize` for a struct whose fields serialise as themselves, in the order given; `name = field`
/// renames, `name = field => function` serialises `function(&self.field)`, and `?field` leaves out a `None`.
macro_rules! serialize_struct {
    ($type:ty { $($entry:tt)* }) => {
        impl ::serde_core::Serialize for $type {
            fn serialize<S: ::serde_core::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                use ::serde_core::ser::SerializeMap as _;
                let mut map = serializer.serialize_map(None)?;
                $crate::serialization::serialize_struct!(@entries self, map, $($entry)*);
                map.end()
            }
        }
    };
    (@entries $self:ident, $map:ident,) => {};
    (@entries $self:ident, $map:ident) => {};
    (@entries $self:ident, $map:ident, ?$field:ident $(, $($rest:tt)*)?) => {
        if let ::std::option::Option::Some(value) = &$self.$field {
            $map.serialize_entry(::core::stringify!($field), value)?;
        }
        $crate::serialization::serialize_struct!(@entries $self, $map, $($($rest)*)?);
    };
    (@entries $self:ident, $map:ident, $name:literal = $field:ident => $function:path $(, $($rest:tt)*)?) => {
        $map.serialize_entry($name, &$function(&$self.$field))?;
        $crate::serialization::serialize_struct!(@entries $self, $map, $($($rest)*)?);
    };
    (@entries $self:ident, $map:ident, $field:ident $(, $($rest:tt)*)?) => {
        $map.serialize_entry(::core::stringify!($field), &$self.$field)?;
        $crate::serialization::serialize_struct!(@entries $self, $map, $($($rest)*)?);
    };
}

pub(crate) use serialize_struct;

/// A JSON object being read field by field; each read takes its field out.
#[derive(Debug)]
pub struct Object(Map<String, Value>);

/// What a JSON value is, in serde's words (`invalid type: string "3", expected ...`).
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(value) => format!("boolean `{value}`"),
        Value::Number(number) if number.is_f64() => format!("floating point `{number}`"),
        Value::Number(number) => format!("integer `{number}`"),
        Value::String(text) => format!("string {text:?}"),
        Value::Array(_) => "a sequence".to_owned(),
        Value::Object(_) => "a map".to_owned(),
    }
}

impl Object {
    /// `value` as an object to read `what` from, or serde's error for anything else.
    pub(crate) fn new(value: Value, what: &str) -> Result<Self, String> {
        match value {
            Value::Object(map) => Ok(Object(map)),
            other => Err(format!("invalid type: {}, expected {what}", describe(&other))),
        }
    }

    /// The JSON object in `text`, to read `what` from.
    pub(crate) fn parse(text: &str, what: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(text).map_err(|error| error.to_string())?;
        Object::new(value, what)
    }

    /// What `read` makes of the object `deserializer` gives: a `Deserialize` impl's whole body.
    pub fn deserialize_with<'de, D, T>(
        deserializer: D,
        what: &str,
        read: impl FnOnce(&mut Object) -> Result<T, String>,
    ) -> Result<T, D::Error>
    where
        D: serde_core::Deserializer<'de>,
    {
        use serde_core::de::Error as _;
        let value = <Value as serde_core::Deserialize>::deserialize(deserializer)?;
        Object::new(value, what)
            .and_then(|mut object| read(&mut object))
            .map_err(D::Error::custom)
    }

    /// The field `name`, which must be there.
    pub fn required<T: DeserializeOwned>(&mut self, name: &str) -> Result<T, String> {
        let value = self.0.remove(name).ok_or_else(|| format!("missing field `{name}`"))?;
        T::deserialize(value).map_err(|error| format!("`{name}`: {error}"))
    }

    /// The field `name`, `None` when it is absent or null.
    pub fn optional<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<T>, String> {
        match self.0.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => T::deserialize(value)
                .map(Some)
                .map_err(|error| format!("`{name}`: {error}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::Object;

    #[test]
    fn reads_fields_with_serdes_words() {
        let mut object = Object::new(json!({"a": "x", "n": "3", "z": null}), "a frame").unwrap();
        assert_eq!(object.required::<String>("a").unwrap(), "x");
        assert_eq!(
            object.required::<u64>("n").unwrap_err(),
            "`n`: invalid type: string \"3\", expected u64"
        );
        assert_eq!(object.required::<u64>("gone").unwrap_err(), "missing field `gone`");
        assert_eq!(object.optional::<u64>("z").unwrap(), None);
        assert_eq!(object.optional::<u64>("absent").unwrap(), None);
        assert_eq!(
            Object::new(json!([1]), "a frame").err().unwrap(),
            "invalid type: a sequence, expected a frame"
        );
    }
}
