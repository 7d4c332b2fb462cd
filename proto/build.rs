//! Generates the tonic/prost code from `proto/swarm.proto` with protox, a
//! protobuf compiler written in Rust, so no system `protoc` is needed. The
//! encoded descriptor set is kept for gRPC server reflection.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/swarm.proto");
    let fds = protox::compile(["swarm.proto"], ["proto"])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("swarm_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    // Malformed requests are the client's error: see src/codec.rs.
    tonic_prost_build::configure()
        .codec_path("crate::codec::StrictCodec")
        .compile_fds(fds)?;
    Ok(())
}
