//! Wire protocol of swarmd: the `.proto` files and the tonic/prost code
//! generated from them, and nothing else.
//!
//! This crate will own the agent service (registration, the long-lived
//! session stream, heartbeats, assignments and results carrying their
//! fencing token), the control service used by `swarmctl`, and the memory
//! service. Generated types stop at the gRPC edge: the coordinator and the
//! agent convert them to domain types in one `from_proto`/`to_proto` file
//! each. No system `protoc` is needed to build it: the generated code is
//! committed and a drift test regenerates it and compares.
