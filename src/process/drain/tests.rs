//! Unit tests of [`super`]: each way a drain ends, on outputs that are plain values.

use super::*;

/// An output stream as the drain sees it.
#[derive(Debug, Default, Clone, Copy)]
struct Stream {
    moved: u64,
    ended: bool,
    blocked_on_client: bool,
    unread: u64,
    reader_present: bool,
}

impl Progress for Stream {
    fn moved(&self) -> u64 {
        self.moved
    }
    fn ended(&self) -> bool {
        self.ended
    }
    fn blocked_on_client(&self) -> bool {
        self.blocked_on_client
    }
    fn unread(&self) -> u64 {
        self.unread
    }
    fn unread_without_reader(&mut self) -> u64 {
        if self.reader_present {
            0
        } else {
            self.unread
        }
    }
}

const SECOND: Duration = Duration::from_secs(1);

fn policy(silence: Option<Duration>, after_eof: AfterEof) -> DrainPolicy {
    DrainPolicy {
        client: 2 * SECOND,
        silence,
        after_eof,
    }
}

fn check(drain: &mut Drain, streams: &mut [Stream], now: Instant) -> Check {
    let mut outputs: Vec<&mut dyn Progress> =
        streams.iter_mut().map(|s| s as &mut dyn Progress).collect();
    drain.check(&mut outputs, now)
}

const ENDED: Stream = Stream {
    moved: 10,
    ended: true,
    blocked_on_client: false,
    unread: 0,
    reader_present: false,
};

#[test]
fn outputs_that_ended_with_nothing_unread_complete_the_drain_at_once() {
    let start = Instant::now();
    for after_eof in [AfterEof::Reader, AfterEof::Empty] {
        let mut drain = Drain::new(policy(None, after_eof), 10, start);
        let mut streams = [ENDED, ENDED];
        assert_eq!(
            check(&mut drain, &mut streams, start),
            Check::Done(DrainEnd::Complete)
        );
    }
}

#[test]
fn a_silent_open_output_is_given_up_after_the_silence_bound_and_waited_for_without_one() {
    let start = Instant::now();
    let open = Stream {
        ended: false,
        ..ENDED
    };
    let mut bounded = Drain::new(policy(Some(SECOND), AfterEof::Empty), 10, start);
    assert_eq!(
        check(&mut bounded, &mut [open], start),
        Check::Wait(Some(start + SECOND))
    );
    assert_eq!(
        check(&mut bounded, &mut [open], start + SECOND),
        Check::Done(DrainEnd::GaveUp {
            left: 0,
            why: "output still open",
            waited: SECOND,
        })
    );
    let mut unbounded = Drain::new(policy(None, AfterEof::Reader), 10, start);
    assert_eq!(
        check(&mut unbounded, &mut [open], start + 100 * SECOND),
        Check::Wait(None)
    );
}

#[test]
fn an_output_blocked_on_its_client_is_given_up_only_after_the_client_bound_without_progress() {
    let start = Instant::now();
    let mut blocked = Stream {
        ended: false,
        blocked_on_client: true,
        ..ENDED
    };
    let mut drain = Drain::new(policy(None, AfterEof::Reader), 10, start);
    assert_eq!(
        check(&mut drain, &mut [blocked], start + SECOND),
        Check::Wait(Some(start + 2 * SECOND))
    );
    // The client took some bytes: the clock starts again.
    blocked.moved += 1;
    let later = start + 3 * SECOND / 2;
    assert_eq!(
        check(&mut drain, &mut [blocked], later),
        Check::Wait(Some(later + 2 * SECOND))
    );
    assert_eq!(
        check(&mut drain, &mut [blocked], later + 2 * SECOND),
        Check::Done(DrainEnd::GaveUp {
            left: 0,
            why: "client not reading",
            waited: 2 * SECOND,
        })
    );
}

#[test]
fn bytes_left_in_a_fifo_are_waited_for_until_read_polling_as_the_policy_says() {
    let start = Instant::now();
    let mut unread = Stream {
        unread: 100,
        ..ENDED
    };
    let mut drain = Drain::new(policy(None, AfterEof::Empty), 10, start);
    assert_eq!(
        check(&mut drain, &mut [unread], start),
        Check::Wait(Some(start + EMPTY_POLL))
    );
    // The client read some: the clock starts again from this look.
    unread.unread = 40;
    let later = start + 3 * SECOND / 2;
    assert_eq!(
        check(&mut drain, &mut [unread], later),
        Check::Wait(Some(later + EMPTY_POLL))
    );
    assert_eq!(
        check(&mut drain, &mut [unread], later + 2 * SECOND),
        Check::Done(DrainEnd::GaveUp {
            left: 40,
            why: "client not reading",
            waited: 2 * SECOND,
        })
    );
    unread.unread = 0;
    let mut read = Drain::new(policy(None, AfterEof::Empty), 10, start);
    assert_eq!(
        check(&mut read, &mut [unread], start),
        Check::Done(DrainEnd::Complete)
    );
}

#[test]
fn after_eof_a_reader_policy_waits_only_for_bytes_nobody_could_read() {
    let start = Instant::now();
    let held = Stream {
        unread: 100,
        reader_present: true,
        ..ENDED
    };
    let mut drain = Drain::new(policy(None, AfterEof::Reader), 10, start);
    assert_eq!(
        check(&mut drain, &mut [held], start),
        Check::Done(DrainEnd::Complete)
    );
    let orphaned = Stream {
        reader_present: false,
        ..held
    };
    let mut drain = Drain::new(policy(None, AfterEof::Reader), 10, start);
    assert_eq!(
        check(&mut drain, &mut [orphaned], start),
        Check::Wait(Some(start + READER_POLL))
    );
    assert_eq!(
        check(&mut drain, &mut [orphaned], start + 2 * SECOND),
        Check::Done(DrainEnd::GaveUp {
            left: 100,
            why: "no reader",
            waited: 2 * SECOND,
        })
    );
}
