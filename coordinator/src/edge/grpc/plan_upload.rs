//! Receiving a plan streamed in chunks (`LoadPlan`): the header comes in
//! the first chunk, the text in all of them. The plan is refused, before
//! anything reaches the scheduler and so with nothing changed, when its
//! declared or received size is over `max_plan_bytes` (the only place that
//! checks it), when the header is
//! missing or repeated, or when the bytes that arrive are not the number
//! the header announced.

use swarm_proto::v1 as pb;
use tokio_stream::{Stream, StreamExt as _};

use swarm_core::command::PlanText;

/// Why a streamed plan was refused.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// Over the daemon's limit (declared or as received).
    #[error(
        "the plan is {size} bytes; at most {limit} are accepted (max_plan_bytes in the daemon's config, or SWARM_MAX_PLAN_BYTES); the plan was not loaded"
    )]
    TooLarge {
        /// Its size, or the bytes received so far.
        size: u64,
        /// `max_plan_bytes`.
        limit: u64,
    },
    /// The first chunk has no header.
    #[error("the first chunk of a plan must carry its header (file name, format, size); the plan was not loaded")]
    NoHeader,
    /// A later chunk has a header too.
    #[error("chunk {index} of the plan carries a second header; only the first may; the plan was not loaded")]
    SecondHeader {
        /// 0-based.
        index: usize,
    },
    /// The stream ended before a single chunk.
    #[error("the plan stream ended before its first chunk; the plan was not loaded")]
    Empty,
    /// More or fewer bytes than announced.
    #[error("the header announced {declared} bytes of plan but {received} arrived; the plan was not loaded")]
    SizeMismatch {
        /// The header's size.
        declared: u64,
        /// What the chunks held.
        received: u64,
    },
    /// The stream failed (the client went away, a chunk could not be
    /// decoded).
    #[error("{0}")]
    Stream(tonic::Status),
}

impl From<UploadError> for tonic::Status {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::Stream(s) => s,
            UploadError::TooLarge { .. } => tonic::Status::out_of_range(e.to_string()),
            UploadError::NoHeader
            | UploadError::SecondHeader { .. }
            | UploadError::Empty
            | UploadError::SizeMismatch { .. } => tonic::Status::invalid_argument(e.to_string()),
        }
    }
}

/// Reads the whole plan from `chunks`, refusing it as soon as it is known
/// to be over `limit` bytes. Text that is not UTF-8 is read with
/// replacement characters, as a plan file is.
pub(crate) async fn receive<S>(chunks: S, limit: u64) -> Result<PlanText, UploadError>
where
    S: Stream<Item = Result<pb::LoadPlanChunk, tonic::Status>> + Unpin,
{
    Ok(receive_with_options(chunks, limit).await?.0)
}

/// [`receive`], with the header's options for applying a revision
/// (`ApplyPlan`; the defaults when it has none).
pub(crate) async fn receive_with_options<S>(
    mut chunks: S,
    limit: u64,
) -> Result<(PlanText, pb::ApplyOptions), UploadError>
where
    S: Stream<Item = Result<pb::LoadPlanChunk, tonic::Status>> + Unpin,
{
    let first = chunks
        .next()
        .await
        .ok_or(UploadError::Empty)?
        .map_err(UploadError::Stream)?;
    let header = first.header.ok_or(UploadError::NoHeader)?;
    if header.size > limit {
        return Err(UploadError::TooLarge {
            size: header.size,
            limit,
        });
    }
    // The declared size is at most the limit: reserving it is safe.
    let mut text = Vec::with_capacity(header.size as usize);
    text.extend_from_slice(&first.text);
    let mut index = 1;
    loop {
        let received = text.len() as u64;
        if received > limit {
            return Err(UploadError::TooLarge {
                size: received,
                limit,
            });
        }
        if received > header.size {
            return Err(UploadError::SizeMismatch {
                declared: header.size,
                received,
            });
        }
        let Some(chunk) = chunks.next().await else {
            break;
        };
        let chunk = chunk.map_err(UploadError::Stream)?;
        if chunk.header.is_some() {
            return Err(UploadError::SecondHeader { index });
        }
        text.extend_from_slice(&chunk.text);
        index += 1;
    }
    if text.len() as u64 != header.size {
        return Err(UploadError::SizeMismatch {
            declared: header.size,
            received: text.len() as u64,
        });
    }
    let text = match String::from_utf8(text) {
        Ok(t) => t,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    let text = PlanText {
        file_name: header.file_name,
        text,
        toml: header.toml,
        roles_toml: header.roles_toml,
    };
    Ok((text, header.apply.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(size: u64) -> Option<pb::LoadPlanHeader> {
        Some(pb::LoadPlanHeader {
            file_name: "big.md".into(),
            toml: false,
            roles_toml: String::new(),
            size,
            apply: None,
        })
    }

    fn chunk(
        header: Option<pb::LoadPlanHeader>,
        text: &[u8],
    ) -> Result<pb::LoadPlanChunk, tonic::Status> {
        Ok(pb::LoadPlanChunk {
            header,
            text: text.to_vec(),
        })
    }

    async fn run(
        chunks: Vec<Result<pb::LoadPlanChunk, tonic::Status>>,
        limit: u64,
    ) -> Result<PlanText, UploadError> {
        receive(tokio_stream::iter(chunks), limit).await
    }

    #[tokio::test]
    async fn chunks_are_joined_even_inside_a_character() {
        let text = "# Plan é\n".as_bytes();
        // Cut inside 'é' (two bytes).
        let (a, b) = text.split_at(8);
        let got = run(
            vec![chunk(header(text.len() as u64), a), chunk(None, b)],
            100,
        )
        .await
        .expect("loaded");
        assert_eq!(got.text, "# Plan é\n");
        assert_eq!(got.file_name, "big.md");
    }

    #[tokio::test]
    async fn a_plan_declared_over_the_limit_is_refused_with_both_sizes() {
        let e = run(vec![chunk(header(2_000), b"x")], 1_000)
            .await
            .expect_err("over the limit");
        let msg = e.to_string();
        assert!(
            msg.contains("2000 bytes") && msg.contains("at most 1000"),
            "{msg}"
        );
        assert!(msg.contains("max_plan_bytes"), "{msg}");
        assert_eq!(tonic::Status::from(e).code(), tonic::Code::OutOfRange);
    }

    #[tokio::test]
    async fn a_plan_that_sends_more_than_the_limit_is_refused_as_it_arrives() {
        // The header lies; the receiver stops at the first chunk past
        // the limit and never reads the rest.
        let mut chunks = vec![chunk(header(10), b"0123456789")];
        chunks.push(chunk(None, b"0123456789"));
        chunks.push(Err(tonic::Status::internal("never read")));
        let e = run(chunks, 15).await.expect_err("over");
        assert!(
            matches!(
                e,
                UploadError::TooLarge {
                    size: 20,
                    limit: 15
                }
            ),
            "{e:?}"
        );
    }

    #[tokio::test]
    async fn sizes_that_do_not_match_the_header_are_refused() {
        let e = run(vec![chunk(header(5), b"abc")], 100)
            .await
            .expect_err("short");
        assert!(matches!(
            e,
            UploadError::SizeMismatch {
                declared: 5,
                received: 3
            }
        ));
        let e = run(vec![chunk(header(2), b"abc")], 100)
            .await
            .expect_err("long");
        assert!(matches!(
            e,
            UploadError::SizeMismatch {
                declared: 2,
                received: 3
            }
        ));
    }

    #[tokio::test]
    async fn the_header_comes_once_and_first() {
        let e = run(vec![chunk(None, b"abc")], 100).await.expect_err("none");
        assert!(matches!(e, UploadError::NoHeader));
        let e = run(vec![chunk(header(2), b"a"), chunk(header(2), b"b")], 100)
            .await
            .expect_err("twice");
        assert!(matches!(e, UploadError::SecondHeader { index: 1 }));
        let e = run(vec![], 100).await.expect_err("empty");
        assert!(matches!(e, UploadError::Empty));
    }

    #[tokio::test]
    async fn the_client_helper_round_trips() {
        let text = "**Task 1**: t\n- **Agent**: Coder\n".repeat(100_000);
        let sent = swarm_client::plan_upload::chunks(
            pb::LoadPlanHeader {
                file_name: "gen.md".into(),
                ..Default::default()
            },
            text.clone(),
        )
        .map(Ok);
        let got = receive(Box::pin(sent), 256 << 20).await.expect("loaded");
        assert_eq!(got.text, text);
        assert_eq!(got.file_name, "gen.md");
    }
}
