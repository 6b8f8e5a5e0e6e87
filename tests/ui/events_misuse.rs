use serde::Deserialize;
use ws_test_runtime::prelude::*;

#[derive(Deserialize, WsEvents)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ws_events(order = [Started, Finshed], sort = "alphabetical")]
enum Job {
    Started,
    #[serde(rename = "started")]
    Restarted,
    Finished,
}

#[derive(Deserialize, WsEvents)]
#[serde(rename_all = "snake-case")]
enum Untagged {
    One,
}

#[derive(Deserialize, WsEvents)]
#[serde(untagged)]
enum ReallyUntagged {
    One { a: u32 },
}

#[derive(Deserialize, WsEvents)]
#[serde(tag = "t", content = "c")]
enum Adjacent {
    One { a: u32 },
}

fn main() {}
