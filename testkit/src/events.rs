//! A background `ctr events` collecting what the daemon publishes, for tests of the shim's
//! events.
//!
//! ctr prints one line per event, `<Go timestamp> <namespace> <topic> <JSON of the event>`, e.g.
//! `2026-12-01 10:12:36.84 +0000 UTC ns /tasks/start {"container_id":"c1","pid":25043}`
//! (the timestamp has spaces, the rest does not before the JSON). Events published before the
//! subscription is live are simply not shown, so [`Ctr::events`] returns only once a probe of
//! its own came through: it labels the namespace, which publishes `/namespaces/update`. The probe
//! events are left out of what it collects. `ctr events` exits when the daemon dies; a test that
//! restarts the daemon starts a new one.
//!
//! [`Ctr::events`] is defined here rather than with the rest of [`Ctr`], so that the ctr client
//! knows nothing of what runs on top of it.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::ctr::Ctr;
use crate::scratch::unique;

/// The namespace label the subscription probe sets.
const PROBE_LABEL: &str = "tinyshim.events-probe";
/// How long [`Events::start`] tries to see its probe.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(20);
/// How long one probe waits before another is sent.
const PROBE_WAIT: Duration = Duration::from_millis(300);

/// One event as ctr printed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The timestamp as printed.
    pub timestamp: String,
    /// The namespace.
    pub namespace: String,
    /// The topic, e.g. `/tasks/exit`.
    pub topic: String,
    /// The event decoded from its JSON (`Null` when ctr printed none).
    pub payload: Value,
}

impl Event {
    /// Parses one line of `ctr events`.
    pub fn parse(line: &str) -> Option<Event> {
        let (head, rest) = line.split_once(" /")?;
        let (timestamp, namespace) = head.rsplit_once(' ')?;
        let (topic, json) = rest.split_once(' ').unwrap_or((rest, ""));
        let payload = if json.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(json).ok()?
        };
        Some(Event {
            timestamp: timestamp.to_string(),
            namespace: namespace.to_string(),
            topic: format!("/{topic}"),
            payload,
        })
    }
}

#[derive(Default)]
struct Collected {
    events: Vec<Event>,
    /// Lines that did not parse as events (ctr's own errors).
    other_lines: Vec<String>,
    probes_seen: BTreeSet<String>,
    ended: bool,
}

#[derive(Default)]
struct Shared {
    collected: Mutex<Collected>,
    arrived: Condvar,
}

/// A running `ctr events`.
pub struct Events {
    child: Child,
    shared: Arc<Shared>,
    reader: Option<JoinHandle<()>>,
}

fn probe_value(event: &Event) -> Option<String> {
    if event.topic != "/namespaces/update" {
        return None;
    }
    event.payload["labels"][PROBE_LABEL]
        .as_str()
        .map(str::to_string)
}

impl Ctr {
    /// A background `ctr events`, already subscribed when this returns.
    pub fn events(&self) -> Events {
        Events::start(self)
    }
}

impl Events {
    /// Spawns `ctr events` and waits until it is subscribed.
    pub(crate) fn start(ctr: &Ctr) -> Events {
        let mut command = ctr.command();
        command
            .arg("events")
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("spawn ctr events");
        let shared = Arc::new(Shared::default());
        let stdout = child.stdout.take().expect("ctr events' stdout");
        let stderr = child.stderr.take().expect("ctr events' stderr");
        let reader = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || collect(BufReader::new(stdout), &shared))
        };
        {
            // ctr's complaints matter only if the subscription fails; keep them as lines.
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Ok(mut collected) = shared.collected.lock() {
                        collected.other_lines.push(line);
                    }
                }
            });
        }
        let events = Events {
            child,
            shared,
            reader: Some(reader),
        };
        events.wait_until_subscribed(ctr);
        events
    }

    fn wait_until_subscribed(&self, ctr: &Ctr) {
        let deadline = Instant::now() + SUBSCRIBE_TIMEOUT;
        loop {
            let value = unique();
            ctr.ok(&[
                "namespaces",
                "label",
                ctr.namespace(),
                &format!("{PROBE_LABEL}={value}"),
            ]);
            let wait_until = (Instant::now() + PROBE_WAIT).min(deadline);
            let collected = self.shared.collected.lock().expect("events lock");
            let left = wait_until.saturating_duration_since(Instant::now());
            let (collected, _) = self
                .shared
                .arrived
                .wait_timeout_while(collected, left, |c| {
                    !c.probes_seen.contains(&value) && !c.ended
                })
                .expect("events lock");
            if collected.probes_seen.contains(&value) {
                return;
            }
            assert!(
                !collected.ended && Instant::now() < deadline,
                "ctr events did not subscribe within {SUBSCRIBE_TIMEOUT:?} (ended: {}); it said: {:?}",
                collected.ended,
                collected.other_lines
            );
        }
    }

    /// Every event collected so far, in arrival order.
    pub fn all(&self) -> Vec<Event> {
        self.shared
            .collected
            .lock()
            .expect("events lock")
            .events
            .clone()
    }

    /// Waits for an event `matches` accepts and returns it, failing the test with the topics
    /// seen if none comes within `timeout` or ctr events ended first.
    pub fn wait_for(&self, timeout: Duration, matches: impl Fn(&Event) -> bool) -> Event {
        let collected = self.shared.collected.lock().expect("events lock");
        let (collected, _) = self
            .shared
            .arrived
            .wait_timeout_while(collected, timeout, |c| {
                !c.ended && !c.events.iter().any(&matches)
            })
            .expect("events lock");
        if let Some(event) = collected.events.iter().find(|e| matches(e)) {
            return event.clone();
        }
        panic!(
            "no matching event within {timeout:?} (ctr events ended: {}); topics seen: {:?}",
            collected.ended,
            collected
                .events
                .iter()
                .map(|e| e.topic.as_str())
                .collect::<Vec<_>>()
        );
    }

    /// Stops `ctr events` and returns everything it collected.
    pub fn stop(mut self) -> Vec<Event> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        self.all()
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(stdout: impl BufRead, shared: &Shared) {
    for line in stdout.lines().map_while(Result::ok) {
        let mut collected = shared.collected.lock().expect("events lock");
        match Event::parse(&line) {
            Some(event) => match probe_value(&event) {
                Some(value) => {
                    collected.probes_seen.insert(value);
                }
                None => collected.events.push(event),
            },
            None => collected.other_lines.push(line),
        }
        shared.arrived.notify_all();
    }
    if let Ok(mut collected) = shared.collected.lock() {
        collected.ended = true;
    }
    shared.arrived.notify_all();
}

#[cfg(test)]
mod tests;
