//! Workspace-level behaviour tests: every line of `PROTOCOL.md` and the seed's scenarios, over real sockets.

mod suite;
mod support;
mod typed;

mod apps;
mod attribute;
mod client;
mod concurrency;
mod contract;
mod expect;
mod external;
mod faults;
mod har;
mod hostile;
mod http;
mod kits;
mod lifecycle;
mod limits;
mod link;
mod load;
mod misbehave;
mod newcomer;
mod protocol;
mod protocols;
mod recording;
mod served;
mod snapshot;
mod tls;
mod ui;
