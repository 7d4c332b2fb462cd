//! The server as gRPC tools see it: health and reflection answer without
//! a token, every swarmd service refuses a call without one, and SIGTERM
//! stops the daemon cleanly.

use std::time::Duration;

use swarm_coordinator::daemon::config::{self, Flags};
use swarm_coordinator::edge::auth::Tokens;
use swarm_proto::v1 as pb;
use tonic::transport::Channel;

async fn start(
    dir: &std::path::Path,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), swarm_coordinator::daemon::serve::ServeError>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let env = |_: &str| None;
    let cfg = config::load(
        None,
        &env,
        &Flags::default()
            .with("listen", addr.to_string())
            .with("workdir", dir.to_path_buf().display().to_string()),
    )
    .expect("config");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(swarm_coordinator::daemon::serve::serve(
        listener,
        cfg,
        Tokens::new("admin".into(), "agent".into()),
        async {
            let _ = stopped.await;
        },
    ));
    (format!("http://{addr}"), stop, server)
}

async fn channel(url: &str) -> Channel {
    for _ in 0..100 {
        if let Ok(c) = Channel::from_shared(url.to_string())
            .expect("url")
            .connect()
            .await
        {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("server did not come up");
}

#[tokio::test]
async fn health_reflection_and_auth() {
    let dir = tempfile::tempdir().expect("tmp");
    let (url, stop, server) = start(dir.path()).await;
    let ch = channel(&url).await;

    let mut health = tonic_health::pb::health_client::HealthClient::new(ch.clone());
    let reply = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "swarm.v1.ControlService".into(),
        })
        .await
        .expect("health")
        .into_inner();
    assert_eq!(
        reply.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    use tonic_reflection::pb::v1::{
        server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
        ServerReflectionRequest,
    };
    let mut reflection = ServerReflectionClient::new(ch.clone());
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut replies = reflection
        .server_reflection_info(tokio_stream::iter(vec![req]))
        .await
        .expect("reflection")
        .into_inner();
    let first = replies.message().await.expect("stream").expect("a reply");
    let Some(MessageResponse::ListServicesResponse(list)) = first.message_response else {
        panic!("unexpected reply")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for s in [
        "swarm.v1.AgentService",
        "swarm.v1.ControlService",
        "swarm.v1.MemoryService",
    ] {
        assert!(names.contains(&s.to_string()), "{names:?}");
    }

    let mut control = pb::control_service_client::ControlServiceClient::new(ch.clone());
    let err = control
        .status(pb::StatusRequest {})
        .await
        .expect_err("no token");
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    let mut req = tonic::Request::new(pb::StatusRequest {});
    req.metadata_mut()
        .insert("authorization", "Bearer agent".parse().expect("header"));
    assert_eq!(
        control.status(req).await.expect_err("agent scope").code(),
        tonic::Code::PermissionDenied
    );
    let mut req = tonic::Request::new(pb::StatusRequest {});
    req.metadata_mut()
        .insert("authorization", "Bearer admin".parse().expect("header"));
    assert_eq!(
        control.status(req).await.expect("admin").into_inner().state,
        "idle"
    );
    let mut memory = pb::memory_service_client::MemoryServiceClient::new(ch);
    let err = memory
        .get(pb::MemoryGetRequest {
            namespace: String::new(),
            key: "k".into(),
        })
        .await
        .expect_err("no token");
    assert_eq!(err.code(), tonic::Code::Unauthenticated);

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("stops")
        .expect("join")
        .expect("clean stop");
}

#[test]
fn sigterm_stops_the_daemon_cleanly() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_swarmd"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--workdir"])
        .arg(dir.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("swarmd");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "swarmd did not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "graceful stop exits 0: {status}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "swarmd did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(dir.path().join(".swarm/swarmd.db").exists());
    assert!(dir.path().join(".swarm/memory.db").exists());
}

/// `MemoryGetRequest` / `MemoryPutRequest` with their text fields as raw
/// bytes, so a test can send what no well-behaved client would.
#[derive(Clone, PartialEq, prost::Message)]
struct RawMemoryRequest {
    #[prost(bytes = "vec", tag = "1")]
    namespace: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    key: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    value: Vec<u8>,
}

#[tokio::test]
async fn text_that_is_not_utf8_is_an_invalid_argument_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let (url, stop, server) = start(dir.path()).await;
    let ch = channel(&url).await;
    for method in ["Put", "Get"] {
        let mut grpc = tonic::client::Grpc::new(ch.clone());
        grpc.ready().await.expect("ready");
        let mut req = tonic::Request::new(RawMemoryRequest {
            namespace: b"default".to_vec(),
            key: vec![b'k', 0xff, 0xfe],
            value: b"v".to_vec(),
        });
        req.metadata_mut()
            .insert("authorization", "Bearer admin".parse().expect("header"));
        let path = format!("/swarm.v1.MemoryService/{method}")
            .parse()
            .expect("path");
        let reply: Result<tonic::Response<RawMemoryRequest>, tonic::Status> = grpc
            .unary(req, path, swarm_proto::codec::StrictCodec::default())
            .await;
        let status = reply.expect_err("refused");
        assert_eq!(
            status.code(),
            tonic::Code::InvalidArgument,
            "{method}: {status:?}"
        );
        assert!(status.message().contains("UTF-8"), "{status:?}");
    }
    let mut memory = pb::memory_service_client::MemoryServiceClient::new(ch);
    let mut list = tonic::Request::new(pb::MemoryListRequest::default());
    list.metadata_mut()
        .insert("authorization", "Bearer admin".parse().expect("header"));
    let entries = memory.list(list).await.expect("list").into_inner();
    assert!(entries.entries.is_empty(), "{entries:?}");
    let _ = stop.send(());
    let _ = server.await;
}
