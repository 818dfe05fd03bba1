use super::*;

#[test]
fn a_line_of_ctr_events_parses_into_its_parts() {
    let line = "2026-12-01 10:12:41.951192289 +0000 UTC t1 /tasks/exit {\"container_id\":\"c1\",\
                \"id\":\"e1\",\"pid\":25573,\"exit_status\":5,\"exited_at\":\"2026-12-01T10:12:41Z\"}";
    let event = Event::parse(line).expect("parse");
    assert_eq!(event.timestamp, "2026-12-01 10:12:41.951192289 +0000 UTC");
    assert_eq!(event.namespace, "t1");
    assert_eq!(event.topic, "/tasks/exit");
    assert_eq!(event.payload["exit_status"], 5);
    assert_eq!(event.payload["id"], "e1");
}

#[test]
fn an_event_without_payload_parses_as_null() {
    let event = Event::parse("2026-12-01 10:12:41 +0000 UTC ns /snapshot/remove ").expect("parse");
    assert_eq!(event.topic, "/snapshot/remove");
    assert_eq!(event.payload, Value::Null);
}

#[test]
fn lines_that_are_not_events_are_refused() {
    assert_eq!(Event::parse("ctr: failed to dial"), None);
    assert_eq!(
        Event::parse("2026-12-01 10:12:41 +0000 UTC ns /tasks/exit {broken"),
        None
    );
}

#[test]
fn only_this_kits_probe_label_counts_as_a_probe() {
    let probe = Event::parse(&format!(
        "t ns /namespaces/update {{\"name\":\"ns\",\"labels\":{{\"{PROBE_LABEL}\":\"7\"}}}}"
    ))
    .expect("parse");
    assert_eq!(probe_value(&probe).as_deref(), Some("7"));
    let other = Event::parse("t ns /namespaces/update {\"name\":\"ns\",\"labels\":{\"a\":\"7\"}}")
        .expect("parse");
    assert_eq!(probe_value(&other), None);
}
