//! The protobuf codec of every generated client and server: prost's, except
//! that a message that cannot be decoded (a string field that is not
//! UTF-8, a truncated field) is the sender's mistake, `InvalidArgument`,
//! not an internal error of the receiver, and that its buffers start
//! small ([`buffers`]): an idle agent's session holds one of each for as
//! long as it is connected, and ten thousand of them add up.

use std::marker::PhantomData;

use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic::Status;
use tonic_prost::ProstEncoder;

/// Each stream's encode and decode buffer starts at 256 bytes (tonic's
/// default is 8 KiB), room for a heartbeat, an acknowledgement or an
/// assignment, and grows with the messages it carries; an encoder still
/// hands on what it has at 32 KiB.
pub fn buffers() -> BufferSettings {
    BufferSettings::new(256, 32 * 1024)
}

/// prost encoding; decoding failures are `InvalidArgument`.
#[derive(Debug, Clone, Copy)]
pub struct StrictCodec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for StrictCodec<T, U> {
    fn default() -> Self {
        StrictCodec(PhantomData)
    }
}

impl<T, U> Codec for StrictCodec<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = StrictDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::new(buffers())
    }

    fn decoder(&mut self) -> Self::Decoder {
        StrictDecoder(PhantomData)
    }
}

/// Decodes `U`, refusing malformed bytes as invalid arguments.
#[derive(Debug, Clone, Copy)]
pub struct StrictDecoder<U>(PhantomData<U>);

impl<U: prost::Message + Default> Decoder for StrictDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        U::decode(buf).map(Some).map_err(|e| {
            Status::invalid_argument(format!(
                "malformed message (every text field must be UTF-8): {e}"
            ))
        })
    }

    fn buffer_settings(&self) -> BufferSettings {
        buffers()
    }
}
