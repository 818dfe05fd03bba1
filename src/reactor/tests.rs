//! Unit tests of [`super`].

use super::*;

#[test]
fn pump_tokens_round_trip_and_do_not_collide() {
    for id in PumpId::ALL {
        assert_eq!(PumpId::of(id.source_token()), Some(id));
        assert_eq!(PumpId::of(id.sink_token()), Some(id));
    }
    for fixed in [
        SIGNALS,
        CONTROL,
        CONSOLE_LISTENER,
        CONSOLE_CONNECTION,
        Token(22),
    ] {
        assert_eq!(PumpId::of(fixed), None);
    }
}
