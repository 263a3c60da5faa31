//! Test-only proptest generators of JSON bodies for the property tests that hold a tree-free
//! reader equal to its tree reader (`stream`'s event readers, `dialect`'s typed chat readers):
//! each field present with its type, present with another type, or absent; objects now and then
//! written as positional arrays.

use proptest::prelude::*;
use serde_json::{json, Value};

/// A field's value, or absent.
pub(crate) type Field = BoxedStrategy<Option<Value>>;

/// A value of some other type than the field's.
fn other() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(json!(null)),
        Just(json!(true)),
        Just(json!(-1)),
        Just(json!(1.5)),
        Just(json!(7)),
        Just(json!("0")),
        Just(json!({})),
        Just(json!([])),
        Just(json!({"x": [1, "y"]})),
        Just(json!([{"type": "text", "text": "part"}])),
        Just(json!({"arguments": "inner"})),
    ]
    .boxed()
}

/// `typed` most of the time, else another type or absent.
pub(crate) fn field(typed: BoxedStrategy<Value>) -> Field {
    prop_oneof![
        4 => typed.prop_map(Some),
        1 => other().prop_map(Some),
        1 => Just(None),
    ]
    .boxed()
}

/// Text with escapes, non-ASCII and JSON-looking characters.
pub(crate) fn text() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(json!("")),
        Just(json!("Hi \"there\"\n")),
        Just(json!("caf\u{e9} \u{1F600} \\")),
        "[a-z {}:\"]{0,8}".prop_map(Value::from),
    ]
    .boxed()
}

/// A small index.
pub(crate) fn index() -> BoxedStrategy<Value> {
    (0u64..4).prop_map(Value::from).boxed()
}

/// One of `names`.
pub(crate) fn kind(names: &'static [&'static str]) -> BoxedStrategy<Value> {
    proptest::sample::select(names)
        .prop_map(Value::from)
        .boxed()
}

/// An object of `fields`; now and then its values as an array instead, in field order
/// (serde's derived readers take a struct from such an array, the tree readers do not).
pub(crate) fn object(fields: Vec<(&'static str, Field)>) -> BoxedStrategy<Value> {
    let (keys, values): (Vec<_>, Vec<_>) = fields.into_iter().unzip();
    (values, 0u8..8)
        .prop_map(move |(vs, form)| {
            if form == 0 {
                return Value::Array(vs.into_iter().map(Option::unwrap_or_default).collect());
            }
            let map = keys
                .iter()
                .zip(vs)
                .filter_map(|(k, v)| Some((k.to_string(), v?)))
                .collect();
            Value::Object(map)
        })
        .boxed()
}

/// An array of up to two items.
pub(crate) fn array(item: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    proptest::collection::vec(item, 0..3)
        .prop_map(Value::Array)
        .boxed()
}
