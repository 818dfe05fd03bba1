//! Every field number of the v1 messages.

use super::*;

#[test]
fn every_v1_memory_stat_counter_has_its_field_number() {
    let memory = v1::MemoryStat {
        cache: 1,
        rss: 2,
        rss_huge: 3,
        mapped_file: 4,
        dirty: 5,
        writeback: 6,
        pg_pg_in: 7,
        pg_pg_out: 8,
        pg_fault: 9,
        pg_maj_fault: 10,
        inactive_anon: 11,
        active_anon: 12,
        inactive_file: 13,
        active_file: 14,
        unevictable: 15,
        hierarchical_memory_limit: 16,
        hierarchical_swap_limit: 17,
        total_cache: 18,
        total_rss: 19,
        total_rss_huge: 20,
        total_mapped_file: 21,
        total_dirty: 22,
        total_writeback: 23,
        total_pg_pg_in: 24,
        total_pg_pg_out: 25,
        total_pg_fault: 26,
        total_pg_maj_fault: 27,
        total_inactive_anon: 28,
        total_active_anon: 29,
        total_inactive_file: 30,
        total_active_file: 31,
        total_unevictable: 32,
        usage: None,
        swap: None,
        kernel: None,
        kernel_tcp: None,
    };
    assert_numbered(&memory.encode_to_vec(), 32, &[]);
}

#[test]
fn every_v1_scalar_message_has_its_field_numbers() {
    let entry = v1::MemoryEntry {
        limit: 1,
        usage: 2,
        max: 3,
        failcnt: 4,
    };
    assert_numbered(&entry.encode_to_vec(), 4, &[]);
    let oom = v1::MemoryOomControl {
        oom_kill_disable: 1,
        under_oom: 2,
        oom_kill: 3,
    };
    assert_numbered(&oom.encode_to_vec(), 3, &[]);
    let throttle = v1::Throttle {
        periods: 1,
        throttled_periods: 2,
        throttled_time: 3,
    };
    assert_numbered(&throttle.encode_to_vec(), 3, &[]);
    let usage = v1::CpuUsage {
        total: 1,
        kernel: 2,
        user: 3,
        per_cpu: Vec::new(),
    };
    assert_numbered(&usage.encode_to_vec(), 3, &[]);
    let pids = v1::PidsStat {
        current: 1,
        limit: 2,
    };
    assert_numbered(&pids.encode_to_vec(), 2, &[]);
    let tasks = v1::CgroupStats {
        nr_sleeping: 1,
        nr_running: 2,
        nr_stopped: 3,
        nr_uninterruptible: 4,
        nr_io_wait: 5,
    };
    assert_numbered(&tasks.encode_to_vec(), 5, &[]);
    let rdma = v1::RdmaEntry {
        device: String::new(),
        hca_handles: 2,
        hca_objects: 3,
    };
    assert_eq!(varint_fields(&rdma.encode_to_vec()), [(2, 2), (3, 3)]);
}
