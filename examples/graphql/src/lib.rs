//! A GraphQL API with a subscription, on async-graphql over axum: `/graphql/ws` speaks `graphql-transport-ws` and
//! answers `400` to a client that does not offer it.
//!
//! `subscription { ticks(count: 3) }` streams `0`, `1`, `2` as `next` frames, then `complete`.

use async_graphql::{EmptyMutation, Object, Schema, Subscription};
use async_graphql_axum::GraphQLSubscription;
use futures_util::Stream;

/// The query root (GraphQL needs one).
#[derive(Debug)]
pub struct Query;

#[Object]
impl Query {
    /// The API's version.
    async fn version(&self) -> &'static str {
        "1"
    }
}

/// The subscription root.
#[derive(Debug)]
pub struct Ticks;

#[Subscription]
impl Ticks {
    /// `0..count`, one `next` each.
    async fn ticks(&self, count: u32) -> impl Stream<Item = u32> {
        futures_util::stream::iter(0..count)
    }
}

/// The app: the subscription endpoint at `/graphql/ws`.
pub fn app() -> axum::Router {
    let schema = Schema::build(Query, EmptyMutation, Ticks).finish();
    axum::Router::new().route_service("/graphql/ws", GraphQLSubscription::new(schema))
}
