use ws_test_runtime::prelude::*;

#[ws_test]
async fn takes_a_number(_count: u32) {}

fn main() {}
