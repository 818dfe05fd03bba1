//! Unit tests of [`super`]: what a full queue drops, and what replaces what.

use super::*;

fn push(queue: &mut Queue, name: &str, worth: Worth, key: Option<&str>) {
    queue.push(
        name.as_bytes().to_vec(),
        worth,
        key.map(str::to_string),
        false,
    );
}

fn names(queue: &mut Queue) -> Vec<String> {
    let mut names = Vec::new();
    while let Some(payload) = queue.pop_front() {
        names.push(String::from_utf8_lossy(&payload).into_owned());
    }
    names
}

#[test]
fn a_full_queue_drops_its_oldest_passing_event_then_its_oldest_normal_one() {
    let mut queue = Queue::new(4);
    push(&mut queue, "exit c1", Worth::Kept, None);
    push(&mut queue, "added e1", Worth::Passing, None);
    push(&mut queue, "exit e1", Worth::Normal, None);
    push(&mut queue, "added e2", Worth::Passing, None);
    push(&mut queue, "exit e2", Worth::Normal, None);
    assert_eq!(queue.take_dropped(), Some((1, 1)));
    push(&mut queue, "exit c2", Worth::Kept, None);
    assert_eq!(queue.take_dropped(), Some((1, 2)));
    assert_eq!(
        names(&mut queue),
        ["exit c1", "exit e1", "exit e2", "exit c2"]
    );
}

#[test]
fn kept_events_are_never_dropped_and_a_cheaper_newcomer_is() {
    let mut queue = Queue::new(2);
    push(&mut queue, "exit c1", Worth::Kept, None);
    push(&mut queue, "oom c2", Worth::Kept, Some("oom/c2"));
    push(&mut queue, "added e1", Worth::Passing, None);
    assert_eq!(queue.take_dropped(), Some((1, 1)), "the newcomer went");
    push(&mut queue, "exit c3", Worth::Kept, None);
    assert_eq!(queue.take_dropped(), None);
    assert_eq!(names(&mut queue), ["exit c1", "oom c2", "exit c3"]);
}

#[test]
fn a_newer_event_of_the_same_key_replaces_the_unsent_one_but_not_the_one_being_sent() {
    let mut queue = Queue::new(8);
    push(&mut queue, "paused c1", Worth::Passing, Some("freeze/c1"));
    // From now on the first event is on its way to containerd.
    let sending = |queue: &mut Queue, name: &str, worth, key: &str| {
        queue.push(name.as_bytes().to_vec(), worth, Some(key.to_string()), true)
    };
    sending(&mut queue, "resumed c1", Worth::Passing, "freeze/c1");
    sending(&mut queue, "paused c1 again", Worth::Passing, "freeze/c1");
    sending(&mut queue, "oom c2", Worth::Kept, "oom/c2");
    sending(&mut queue, "oom c2 again", Worth::Kept, "oom/c2");
    assert_eq!(queue.take_dropped(), None, "replacing is not dropping");
    assert_eq!(
        names(&mut queue),
        ["paused c1", "paused c1 again", "oom c2 again"]
    );
}

#[test]
fn the_event_being_sent_is_never_dropped_to_make_room() {
    let mut queue = Queue::new(1);
    push(&mut queue, "added e1", Worth::Passing, None);
    queue.push(b"exit c1".to_vec(), Worth::Kept, None, true);
    assert_eq!(names(&mut queue), ["added e1", "exit c1"]);
}
