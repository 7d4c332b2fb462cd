//! Wire protocol of swarmd: the `.proto` file (`proto/swarm.proto`) and the
//! tonic/prost code generated from it at build time, and nothing else.
//!
//! Three services share one port: [`v1::agent_service_server`] (agent
//! sessions: registration, heartbeats, assignments, logs and results, each
//! carrying its fencing number), [`v1::control_service_server`] (what
//! `swarmctl` does) and [`v1::memory_service_server`] (the shared key/value
//! memory). Generated types stop at the gRPC edge: the coordinator and the
//! agent convert them to domain types in one place each. No system `protoc`
//! is needed: `build.rs` compiles the file with protox, a protobuf compiler
//! written in Rust. A message that cannot be decoded is refused as
//! `InvalidArgument` ([`codec`]).

pub mod codec;

/// Generated code for package `swarm.v1`.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod v1 {
    tonic::include_proto!("swarm.v1");
}

/// The encoded `FileDescriptorSet` of `swarm.proto`, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/swarm_descriptor.bin"));
