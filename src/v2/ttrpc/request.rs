//! ttrpc requests.
