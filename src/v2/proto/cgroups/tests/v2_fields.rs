//! Every field number of the v2 messages.

use super::*;

#[test]
fn every_v2_memory_stat_counter_has_its_field_number() {
    let memory = v2::MemoryStat {
        anon: 1,
        file: 2,
        kernel_stack: 3,
        slab: 4,
        sock: 5,
        shmem: 6,
        file_mapped: 7,
        file_dirty: 8,
        file_writeback: 9,
        anon_thp: 10,
        inactive_anon: 11,
        active_anon: 12,
        inactive_file: 13,
        active_file: 14,
        unevictable: 15,
        slab_reclaimable: 16,
        slab_unreclaimable: 17,
        pgfault: 18,
        pgmajfault: 19,
        workingset_refault: 20,
        workingset_activate: 21,
        workingset_nodereclaim: 22,
        pgrefill: 23,
        pgscan: 24,
        pgsteal: 25,
        pgactivate: 26,
        pgdeactivate: 27,
        pglazyfree: 28,
        pglazyfreed: 29,
        thp_fault_alloc: 30,
        thp_collapse_alloc: 31,
        usage: 32,
        usage_limit: 33,
        swap_usage: 34,
        swap_limit: 35,
        max_usage: 36,
        swap_max_usage: 37,
        psi: None,
        workingset_refault_anon: 39,
        workingset_refault_file: 40,
        workingset_activate_anon: 41,
        workingset_activate_file: 42,
    };
    assert_numbered(&memory.encode_to_vec(), 42, &[38]);
}

#[test]
fn every_v2_scalar_message_has_its_field_numbers() {
    let cpu = v2::CpuStat {
        usage_usec: 1,
        user_usec: 2,
        system_usec: 3,
        nr_periods: 4,
        nr_throttled: 5,
        throttled_usec: 6,
        psi: None,
        nr_bursts: 8,
        burst_usec: 9,
    };
    assert_numbered(&cpu.encode_to_vec(), 9, &[7]);
    let events = v2::MemoryEvents {
        low: 1,
        high: 2,
        max: 3,
        oom: 4,
        oom_kill: 5,
        oom_group_kill: 6,
    };
    assert_numbered(&events.encode_to_vec(), 6, &[]);
    let io = v2::IoEntry {
        major: 1,
        minor: 2,
        rbytes: 3,
        wbytes: 4,
        rios: 5,
        wios: 6,
    };
    assert_numbered(&io.encode_to_vec(), 6, &[]);
    let network = v2::NetworkStat {
        name: String::new(),
        rx_bytes: 2,
        rx_packets: 3,
        rx_errors: 4,
        rx_dropped: 5,
        tx_bytes: 6,
        tx_packets: 7,
        tx_errors: 8,
        tx_dropped: 9,
    };
    assert_numbered(&network.encode_to_vec(), 9, &[1]);
}

#[test]
fn the_psi_messages_nest_where_the_proto_says() {
    let psi = Some(v2::PsiStats {
        some: None,
        full: Some(v2::PsiData::default()),
    });
    // full (2) empty inside psi: 0x12 0x00, so psi is two bytes long.
    let cpu = v2::CpuStat {
        psi: psi.clone(),
        ..v2::CpuStat::default()
    };
    assert_eq!(cpu.encode_to_vec(), [0x3a, 0x02, 0x12, 0x00]);
    let memory = v2::MemoryStat {
        psi: psi.clone(),
        ..v2::MemoryStat::default()
    };
    // 38 << 3 | 2 = 306 = 0xb2 0x02.
    assert_eq!(memory.encode_to_vec(), [0xb2, 0x02, 0x02, 0x12, 0x00]);
    let io = v2::IoStat {
        usage: Vec::new(),
        psi,
    };
    assert_eq!(io.encode_to_vec(), [0x12, 0x02, 0x12, 0x00]);
}
