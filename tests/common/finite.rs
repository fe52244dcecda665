//! Every number in a value is finite, checked on the value itself before it
//! is serialised: serde_json writes NaN and ±∞ as `null`, so a check on the
//! JSON text (or on a `serde_json::Value`) cannot see them.
//!
//! [`non_finite`] serialises the value into a serializer that keeps no
//! output: it records the path of every `f32`/`f64` that is NaN or infinite.

use serde::Serialize;
use serde::ser;

/// The paths (`metrics[0].comparisons[1].p_value`) of every non-finite
/// number in `value`; empty when all are finite.
pub fn non_finite<T: Serialize + ?Sized>(value: &T) -> Vec<String> {
    let mut walker = Walker::default();
    value
        .serialize(&mut walker)
        .unwrap_or_else(|e| panic!("{e}"));
    walker.found
}

#[derive(Default)]
struct Walker {
    path: Vec<String>,
    found: Vec<String>,
}

#[derive(Debug)]
struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

impl Walker {
    fn number(&mut self, x: f64) {
        if !x.is_finite() {
            self.found.push(format!("{} = {x}", self.path.concat()));
        }
    }

    fn nested<T: Serialize + ?Sized>(&mut self, segment: String, value: &T) -> Result<(), Error> {
        self.path.push(segment);
        let result = value.serialize(&mut *self);
        self.path.pop();
        result
    }
}

/// Scalars that hold no number.
macro_rules! ignore {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(fn $method(self, _: $ty) -> Result<(), Error> { Ok(()) })*
    };
}

impl<'a> ser::Serializer for &'a mut Walker {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Seq<'a>;
    type SerializeMap = Map<'a>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    ignore!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_struct(&'static str),
    );

    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.number(f64::from(v));
        Ok(())
    }

    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.number(v);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), Error> {
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        Ok(())
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Error> {
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.nested(format!(".{variant}"), value)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Seq<'a>, Error> {
        Ok(Seq {
            walker: self,
            index: 0,
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<Seq<'a>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq<'a>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        len: usize,
    ) -> Result<Seq<'a>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Map<'a>, Error> {
        Ok(Map {
            walker: self,
            key: String::new(),
        })
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Error> {
        Ok(self)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Error> {
        Ok(self)
    }
}

struct Seq<'a> {
    walker: &'a mut Walker,
    index: usize,
}

impl Seq<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let segment = format!("[{}]", self.index);
        self.index += 1;
        self.walker.nested(segment, value)
    }
}

macro_rules! seq {
    ($($trait:ident :: $method:ident),*) => {
        $(impl ser::$trait for Seq<'_> {
            type Ok = ();
            type Error = Error;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.element(value)
            }

            fn end(self) -> Result<(), Error> {
                Ok(())
            }
        })*
    };
}

seq!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

struct Map<'a> {
    walker: &'a mut Walker,
    key: String,
}

impl ser::SerializeMap for Map<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = serde_json::to_string(key).unwrap_or_else(|_| "?".to_string());
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let segment = format!("[{}]", self.key);
        self.walker.nested(segment, value)
    }

    fn end(self) -> Result<(), Error> {
        Ok(())
    }
}

/// Struct fields, in a struct or an enum variant, as `.name` segments.
macro_rules! fields {
    ($($trait:ident),*) => {
        $(impl ser::$trait for &mut Walker {
            type Ok = ();
            type Error = Error;

            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                self.nested(format!(".{key}"), value)
            }

            fn end(self) -> Result<(), Error> {
                Ok(())
            }
        })*
    };
}

fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::non_finite;

    #[derive(serde::Serialize)]
    struct Inner {
        p: Option<f64>,
        values: Vec<f64>,
    }

    #[derive(serde::Serialize)]
    struct Outer {
        name: String,
        inner: Vec<Inner>,
    }

    #[test]
    fn finds_every_non_finite_number_with_its_path() {
        let value = Outer {
            name: "x".into(),
            inner: vec![
                Inner {
                    p: Some(0.5),
                    values: vec![1.0],
                },
                Inner {
                    p: Some(f64::NAN),
                    values: vec![2.0, f64::INFINITY],
                },
            ],
        };
        assert_eq!(
            non_finite(&value),
            [".inner[1].p = NaN", ".inner[1].values[1] = inf"]
        );
        assert!(serde_json::to_string(&value).unwrap().contains("null"));
    }
}
