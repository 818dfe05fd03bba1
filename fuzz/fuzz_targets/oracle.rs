//! Expected decodings computed from a `serde_json::Value`, independently of the shim's serde
//! structs: the oracle the JSON targets compare against.
//!
//! Each getter returns `None` when the key holds a type the shim must refuse, and `Some(default)`
//! when it is absent or `null` (Go's zero value).

// Each target uses the getters its file needs.
#![allow(dead_code)]

use serde_json::{Map, Value};

pub type Object = Map<String, Value>;

fn typed<T: Default>(
    object: &Object,
    key: &str,
    convert: impl Fn(&Value) -> Option<T>,
) -> Option<T> {
    match object.get(key) {
        None | Some(Value::Null) => Some(T::default()),
        Some(value) => convert(value),
    }
}

pub fn boolean(object: &Object, key: &str) -> Option<bool> {
    typed(object, key, Value::as_bool)
}

pub fn string(object: &Object, key: &str) -> Option<String> {
    typed(object, key, |v| v.as_str().map(str::to_string))
}

pub fn strings(object: &Object, key: &str) -> Option<Vec<String>> {
    typed(object, key, |v| {
        v.as_array()?
            .iter()
            .map(|item| item.as_str().map(str::to_string))
            .collect()
    })
}

pub fn uint32(object: &Object, key: &str) -> Option<u32> {
    typed(object, key, |v| u32::try_from(v.as_u64()?).ok())
}

/// Checks `decode` against `expect` on `data`:
/// * what decodes must agree with the oracle whenever serde_json can build a `Value` of it;
/// * the `Value` re-encoded (which removes duplicate keys and odd spellings) must decode exactly
///   when the oracle accepts it, to the oracle's result.
pub fn check<T: PartialEq + std::fmt::Debug, E>(
    data: &[u8],
    decode: impl Fn(&[u8]) -> Result<T, E>,
    expect: impl Fn(&Object) -> Option<T>,
) {
    let decoded = decode(data);
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let expected = value.as_object().and_then(&expect);
    if let Ok(decoded) = &decoded {
        assert_eq!(
            Some(decoded),
            expected.as_ref(),
            "decoded a value the oracle refuses"
        );
    }
    let Ok(canonical) = serde_json::to_vec(&value) else {
        return;
    };
    assert_eq!(decode(&canonical).ok(), expected, "canonical form {value}");
}
