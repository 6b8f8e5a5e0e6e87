//! An AsyncAPI document's text as JSON: YAML (yaml-rust2) or JSON.

use serde_json::{Map, Number, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// Reads `text` (YAML 1.2 or JSON) into JSON; the error says what and where.
pub(crate) fn parse(text: &str) -> Result<Value, String> {
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text).map_err(|error| format!("not JSON: {error}"));
    }
    let documents = YamlLoader::load_from_str(text).map_err(|error| format!("not YAML: {error}"))?;
    match documents.as_slice() {
        [] => Err("the document is empty".to_owned()),
        [document] => to_json(document, ""),
        _ => Err(format!(
            "{} YAML documents in one file; an AsyncAPI document is one",
            documents.len()
        )),
    }
}

fn to_json(yaml: &Yaml, at: &str) -> Result<Value, String> {
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Boolean(value) => Value::Bool(*value),
        Yaml::Integer(value) => Value::Number((*value).into()),
        Yaml::Real(text) => {
            let value: f64 = text
                .parse()
                .map_err(|_| format!("{}: {text:?} is not a number", pointer(at)))?;
            Number::from_f64(value).map_or(Value::Null, Value::Number)
        }
        Yaml::String(text) => Value::String(text.clone()),
        Yaml::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| to_json(item, &format!("{at}/{index}")))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Hash(entries) => {
            let mut map = Map::new();
            for (key, value) in entries {
                let key = match key {
                    Yaml::String(text) | Yaml::Real(text) => text.clone(),
                    Yaml::Integer(number) => number.to_string(),
                    Yaml::Boolean(flag) => flag.to_string(),
                    Yaml::Null => "null".to_owned(),
                    other => return Err(format!("{}: a key that is not a scalar ({other:?})", pointer(at))),
                };
                let escaped = key.replace('~', "~0").replace('/', "~1");
                let value = to_json(value, &format!("{at}/{escaped}"))?;
                map.insert(key, value);
            }
            Value::Object(map)
        }
        Yaml::Alias(_) => return Err(format!("{}: an alias this parser did not resolve", pointer(at))),
        Yaml::BadValue => return Err(format!("{}: a value that is not YAML", pointer(at))),
    })
}

fn pointer(at: &str) -> String {
    if at.is_empty() {
        "#".to_owned()
    } else {
        format!("#{at}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_and_json_read_the_same() {
        let yaml = "asyncapi: 3.0.0\ninfo:\n  title: Chat\n  version: '1.0'\nlist: [1, 2.5, true, null]\n";
        let json = r#"{"asyncapi":"3.0.0","info":{"title":"Chat","version":"1.0"},"list":[1,2.5,true,null]}"#;
        assert_eq!(parse(yaml).unwrap(), parse(json).unwrap());
        assert!(parse("a: [1, 2\n").unwrap_err().starts_with("not YAML"));
        assert!(parse("{\"a\": }").unwrap_err().starts_with("not JSON"));
    }
}
