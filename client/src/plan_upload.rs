//! Sending a plan to `swarmd`: its text in chunks of [`CHUNK_BYTES`], the
//! header (file name, format, roles, total size) in the first, so that a
//! plan of a million tasks (tens of MiB) never has to fit in one gRPC
//! message. Used by `swarmctl plan load`, its MCP tool, `swarmd run` and
//! the benchmark.

use swarm_proto::v1 as pb;

/// Bytes of plan text per chunk: well under gRPC's default 4 MiB message.
pub const CHUNK_BYTES: usize = 1024 * 1024;

/// The chunks that load `text` with `header` (whose `size` is set here):
/// at least one, the header in the first. Each chunk is cut from `text`
/// only when the stream is polled, so at most one is held beside the text.
pub fn chunks(
    mut header: pb::LoadPlanHeader,
    text: String,
) -> impl tokio_stream::Stream<Item = pb::LoadPlanChunk> + Send + 'static {
    header.size = text.len() as u64;
    let count = text.len().div_ceil(CHUNK_BYTES).max(1);
    let mut header = Some(header);
    tokio_stream::iter((0..count).map(move |i| {
        let start = i * CHUNK_BYTES;
        let end = (start + CHUNK_BYTES).min(text.len());
        pb::LoadPlanChunk {
            header: header.take(),
            text: text.as_bytes()[start..end].to_vec(),
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_stream::StreamExt as _;

    fn header() -> pb::LoadPlanHeader {
        pb::LoadPlanHeader {
            file_name: "plan.md".into(),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn the_chunks_join_to_the_text_with_one_header_first() {
        // Multi-byte characters so that chunk ends fall inside some.
        let text = "é€𝄞 task\n".repeat(CHUNK_BYTES / 5);
        let got: Vec<pb::LoadPlanChunk> = chunks(header(), text.clone()).collect().await;
        assert_eq!(got.len(), text.len().div_ceil(CHUNK_BYTES));
        assert!(got.len() > 2);
        let first = got[0]
            .header
            .as_ref()
            .expect("the first chunk has the header");
        assert_eq!(first.size, text.len() as u64);
        assert_eq!(first.file_name, "plan.md");
        assert!(got[1..].iter().all(|c| c.header.is_none()));
        assert!(got.iter().all(|c| c.text.len() <= CHUNK_BYTES));
        let joined: Vec<u8> = got.into_iter().flat_map(|c| c.text).collect();
        assert_eq!(joined, text.as_bytes());
    }

    #[tokio::test]
    async fn an_empty_plan_is_one_chunk_with_the_header() {
        let got: Vec<pb::LoadPlanChunk> = chunks(header(), String::new()).collect().await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].header.as_ref().map(|h| h.size), Some(0));
        assert!(got[0].text.is_empty());
    }
}
