//! asherah-shim: module registration.
