use ws_test_runtime::prelude::*;

#[derive(WsEvents)]
struct NotAnEnum {
    kind: String,
}

#[derive(WsEvents)]
union NotEither {
    a: u32,
}

fn main() {}
