//! Unit tests of [`super`]: field numbers against the `.proto` files, and a few encodings
//! written out byte by byte.
//!
//! The numbering tests set every scalar field to its own field number, as read from
//! `metrics.proto`, and check that each key on the wire carries the number its value says: a
//! field given the wrong tag fails, whichever it is.

use prost::Message;

use super::super::google::{Any, TypeUrl};
use super::{v1, v2};

/// The varint fields of an encoded message, as (field number, value); panics on any other wire
/// type, so a message holding one is not a message these tests may pass through here.
fn varint_fields(mut wire: &[u8]) -> Vec<(u64, u64)> {
    fn varint(wire: &mut &[u8]) -> u64 {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = wire.split_first().expect("a complete varint");
            *wire = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
        }
        value
    }
    let mut fields = Vec::new();
    while !wire.is_empty() {
        let key = varint(&mut wire);
        assert_eq!(key & 7, 0, "field {} is not a varint", key >> 3);
        fields.push((key >> 3, varint(&mut wire)));
    }
    fields
}

/// Checks that every field of `wire` carries its own number as its value, and that there are
/// `count` of them, numbered 1 to `count` but for `gaps`.
fn assert_numbered(wire: &[u8], count: u64, gaps: &[u64]) {
    let fields = varint_fields(wire);
    for &(number, value) in &fields {
        assert_eq!(
            number, value,
            "the field holding {value} went out as field {number}"
        );
    }
    let numbers: Vec<u64> = fields.iter().map(|&(number, _)| number).collect();
    let expected: Vec<u64> = (1..=count).filter(|n| !gaps.contains(n)).collect();
    assert_eq!(numbers, expected);
}

#[test]
fn the_type_urls_are_the_bare_protobuf_names() {
    assert_eq!(
        v1::Metrics::TYPE_URL,
        "io.containerd.cgroups.v1.Metrics",
        "no type.googleapis.com/ prefix: containerd 1.6 resolves by exact name"
    );
    assert_eq!(v2::Metrics::TYPE_URL, "io.containerd.cgroups.v2.Metrics");
    let any = Any::pack(&v1::Metrics::default());
    assert_eq!(any.type_url, "io.containerd.cgroups.v1.Metrics");
    assert!(any.value.is_empty());
}

#[test]
fn the_sub_messages_docker_and_ctr_dereference_go_out_empty_but_present() {
    let metrics = v1::Metrics {
        cpu: Some(v1::CpuStat {
            usage: Some(v1::CpuUsage::default()),
            throttling: Some(v1::Throttle::default()),
        }),
        memory: Some(v1::MemoryStat {
            usage: Some(v1::MemoryEntry::default()),
            swap: Some(v1::MemoryEntry::default()),
            kernel: Some(v1::MemoryEntry::default()),
            kernel_tcp: Some(v1::MemoryEntry::default()),
            ..v1::MemoryStat::default()
        }),
        ..v1::Metrics::default()
    };
    let wire = [
        // cpu (3), 4 bytes: usage (1) and throttling (2), both of length 0.
        0x1a, 0x04, 0x0a, 0x00, 0x12, 0x00,
        // memory (4), 12 bytes: fields 33..36 have two-byte keys (33 << 3 | 2 = 266 = 0x8a 0x02).
        0x22, 0x0c, 0x8a, 0x02, 0x00, 0x92, 0x02, 0x00, 0x9a, 0x02, 0x00, 0xa2, 0x02, 0x00,
    ];
    assert_eq!(metrics.encode_to_vec(), wire);
    assert_eq!(v1::Metrics::decode(&wire[..]), Ok(metrics));
}

#[test]
fn v1_per_cpu_usage_is_packed() {
    let usage = v1::CpuUsage {
        per_cpu: vec![1, 300],
        ..v1::CpuUsage::default()
    };
    // Field 4, length-delimited, 3 bytes: 1, then 300 = 0xac 0x02.
    assert_eq!(usage.encode_to_vec(), [0x22, 0x03, 0x01, 0xac, 0x02]);
}

#[test]
fn a_v2_limit_of_max_is_ten_bytes_of_all_ones() {
    let pids = v2::PidsStat {
        current: 1,
        limit: u64::MAX,
    };
    let mut wire = vec![0x08, 0x01, 0x10];
    wire.extend([0xff; 9]);
    wire.push(0x01);
    assert_eq!(pids.encode_to_vec(), wire);
}

#[test]
fn v2_memory_usage_and_limit_are_fields_32_and_33() {
    let memory = v2::MemoryStat {
        usage: 5,
        usage_limit: 6,
        ..v2::MemoryStat::default()
    };
    // 32 << 3 = 256 = 0x80 0x02; 33 << 3 = 264 = 0x88 0x02.
    assert_eq!(memory.encode_to_vec(), [0x80, 0x02, 0x05, 0x88, 0x02, 0x06]);
}

#[test]
fn a_psi_average_is_a_little_endian_double() {
    let data = v2::PsiData {
        avg10: 1.5,
        total: 7,
        ..v2::PsiData::default()
    };
    // Field 1, wire type 1 (64-bit): 1.5 is 0x3ff8_0000_0000_0000; then total (4) = 7.
    let wire = [0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0x20, 0x07];
    assert_eq!(data.encode_to_vec(), wire);
    assert_eq!(v2::PsiData::decode(&wire[..]), Ok(data));
}

#[test]
fn the_hugetlb_messages_of_v1_and_v2_number_their_fields_differently() {
    let v1_entry = v1::HugetlbStat {
        usage: 1,
        max: 2,
        failcnt: 3,
        pagesize: "2MB".into(),
    };
    assert_eq!(
        v1_entry.encode_to_vec(),
        [0x08, 1, 0x10, 2, 0x18, 3, 0x22, 3, b'2', b'M', b'B']
    );
    let v2_entry = v2::HugeTlbStat {
        current: 1,
        max: 2,
        pagesize: "2MB".into(),
        failcnt: 4,
    };
    assert_eq!(
        v2_entry.encode_to_vec(),
        [0x08, 1, 0x10, 2, 0x1a, 3, b'2', b'M', b'B', 0x20, 4]
    );
}

#[test]
fn a_blkio_entry_has_op_and_device_first() {
    let entry = v1::BlkIoEntry {
        op: "Read".into(),
        device: "/dev/a".into(),
        major: 254,
        minor: 0,
        value: 4096,
    };
    let mut wire = vec![0x0a, 4];
    wire.extend_from_slice(b"Read");
    wire.extend([0x12, 6]);
    wire.extend_from_slice(b"/dev/a");
    // 254 = 0xfe 0x01; minor 0 is not sent; 4096 = 0x80 0x20.
    wire.extend([0x18, 0xfe, 0x01, 0x28, 0x80, 0x20]);
    assert_eq!(entry.encode_to_vec(), wire);
}

#[test]
fn the_v1_metrics_parts_have_their_field_numbers() {
    let metrics = v1::Metrics {
        hugetlb: vec![v1::HugetlbStat::default()],
        pids: Some(v1::PidsStat::default()),
        cpu: Some(v1::CpuStat::default()),
        memory: Some(v1::MemoryStat::default()),
        blkio: Some(v1::BlkIoStat::default()),
        rdma: Some(v1::RdmaStat::default()),
        network: vec![v1::NetworkStat::default()],
        cgroup_stats: Some(v1::CgroupStats::default()),
        memory_oom_control: Some(v1::MemoryOomControl::default()),
    };
    // Nine empty length-delimited fields, 1 to 9: keys (n << 3 | 2), lengths 0.
    let wire: Vec<u8> = (1..=9u8).flat_map(|n| [n << 3 | 2, 0]).collect();
    assert_eq!(metrics.encode_to_vec(), wire);
}

#[test]
fn the_v2_metrics_parts_have_their_field_numbers_and_none_is_3() {
    let metrics = v2::Metrics {
        pids: Some(v2::PidsStat::default()),
        cpu: Some(v2::CpuStat::default()),
        memory: Some(v2::MemoryStat::default()),
        rdma: Some(v2::RdmaStat::default()),
        io: Some(v2::IoStat::default()),
        hugetlb: vec![v2::HugeTlbStat::default()],
        memory_events: Some(v2::MemoryEvents::default()),
        network: vec![v2::NetworkStat::default()],
    };
    let wire: Vec<u8> = [1u8, 2, 4, 5, 6, 7, 8, 9]
        .iter()
        .flat_map(|&n| [n << 3 | 2, 0])
        .collect();
    assert_eq!(metrics.encode_to_vec(), wire);
}

mod v1_fields;
mod v2_fields;
