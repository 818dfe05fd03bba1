use super::*;

#[test]
fn varints_match_the_encoding_guide() {
    let mut out = Vec::new();
    put_varint(&mut out, 1);
    put_varint(&mut out, 300);
    put_varint(&mut out, u64::MAX);
    assert_eq!(
        out,
        [0x01, 0xac, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
    );
}

#[test]
fn fields_match_the_encoding_guide() {
    assert_eq!(
        MessageWriter::new().uint(1, 150).finish(),
        [0x08, 0x96, 0x01]
    );
    assert_eq!(
        MessageWriter::new().string(2, "testing").finish(),
        b"\x12\x07testing"
    );
}

#[test]
fn negative_ints_take_ten_bytes() {
    let encoded = MessageWriter::new().int(1, -1).finish();
    assert_eq!(encoded.len(), 11);
    let fields = Fields::decode(&encoded).expect("decode");
    assert_eq!(fields.uint(1).map(|v| v as i64), Some(-1));
}

#[test]
fn default_values_are_left_out_but_empty_messages_are_not() {
    let encoded = MessageWriter::new()
        .uint(1, 0)
        .string(2, "")
        .bool(3, false)
        .bytes(4, b"")
        .message(5, b"")
        .finish();
    assert_eq!(encoded, [0x2a, 0x00]);
}

#[test]
fn a_delete_response_measured_from_the_go_shim_decodes() {
    // PROTOCOL-V2.md 2.3: pid 19055, exit status 137, exited_at {seconds, nanos}.
    let bytes = [
        0x08, 0xef, 0x94, 0x01, 0x10, 0x89, 0x01, 0x1a, 0x0b, 0x08, 0xb7, 0x8c, 0xba, 0xd8, 0x06,
        0x10, 0xf9, 0x95, 0xce, 0x49,
    ];
    let fields = Fields::decode(&bytes).expect("decode");
    assert_eq!(fields.uint(1), Some(19055));
    assert_eq!(fields.uint(2), Some(137));
    let exited_at = Fields::decode(fields.bytes(3).expect("exited_at")).expect("timestamp");
    assert!(exited_at
        .uint(1)
        .is_some_and(|seconds| seconds > 1_600_000_000));
    assert!(exited_at.uint(2).is_some_and(|nanos| nanos < 1_000_000_000));
}

#[test]
fn repeated_fields_keep_every_occurrence_and_the_last_wins() {
    let encoded = MessageWriter::new().string(5, "a").string(5, "b").finish();
    let fields = Fields::decode(&encoded).expect("decode");
    assert_eq!(fields.repeated_bytes(5), [b"a", b"b"]);
    assert_eq!(fields.string(5).as_deref(), Some("b"));
}

#[test]
fn fixed_width_fields_decode_little_endian() {
    let encoded = MessageWriter::new()
        .raw_field(&[0x09, 1, 0, 0, 0, 0, 0, 0, 0x80])
        .raw_field(&[0x15, 2, 0, 0, 0])
        .finish();
    let fields = Fields::decode(&encoded).expect("decode");
    assert_eq!(
        fields.get(1),
        Some(FieldValue::Fixed64(0x8000_0000_0000_0001))
    );
    assert_eq!(fields.get(2), Some(FieldValue::Fixed32(2)));
    assert_eq!(fields.uint(1), None, "a fixed64 field is not a varint");
}

#[test]
fn malformed_input_is_an_error_naming_where() {
    assert_eq!(
        Fields::decode(&[0x08]),
        Err(DecodeError::Truncated { at: 1 })
    );
    assert_eq!(
        Fields::decode(&[0x0a, 0x05, b'a']),
        Err(DecodeError::Truncated { at: 2 })
    );
    assert_eq!(
        Fields::decode(&[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
        Err(DecodeError::VarintTooLong { at: 1 })
    );
    assert_eq!(
        Fields::decode(&[0x0b]),
        Err(DecodeError::WireType {
            field: 1,
            wire_type: 3,
            at: 0
        })
    );
    assert_eq!(
        Fields::decode(&[0x00, 0x00]),
        Err(DecodeError::FieldZero { at: 0 })
    );
}
