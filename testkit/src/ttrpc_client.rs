//! A raw ttrpc client, to talk to a shim's socket the way containerd does, and the ways it never
//! would.
//!
//! It is built from the wire format alone (PROTOCOL-V2.md section 3) on [`crate::protobuf`], and
//! imports nothing of the shim, so that it checks the shim rather than agreeing with it:
//!
//! * a frame is a 10-byte header (`u32` BE payload length, `u32` BE stream id, `u8` type, `u8`
//!   flags) and the payload;
//! * a request's payload is `ttrpc.Request{1 service, 2 method, 3 payload, 4 timeout_nano,
//!   5 repeated KeyValue metadata}`, a response's is `ttrpc.Response{1 google.rpc.Status{1 code,
//!   2 message}, 2 payload}`; an OK reply to an `Empty` call is a zero-length payload.
//!
//! Calls can be pipelined ([`Client::send`] several, then [`Client::reply`] for each id, in any
//! order); [`Client::send_raw`] writes any bytes at all, and [`Client::peer_closed`] tells whether
//! the server hung up.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::protobuf::{Fields, MessageWriter};

/// Length of a frame header.
pub const HEADER_LEN: usize = 10;
/// The largest payload a ttrpc peer accepts (`4 << 20`, ttrpc's `messageLengthMax`).
pub const MAX_PAYLOAD: usize = 4 << 20;
/// Frame type of a request.
pub const TYPE_REQUEST: u8 = 1;
/// Frame type of a response.
pub const TYPE_RESPONSE: u8 = 2;
/// Frame type of stream data (ttrpc 1.2 streaming; the task API never uses it).
pub const TYPE_DATA: u8 = 3;

/// The task service of the runtime v2 API, as containerd 1.6 and 1.7 call it.
pub const TASK_SERVICE: &str = "containerd.task.v2.Task";

/// A frame announcing more than this is taken as garbage: the client would otherwise try to
/// buffer whatever length a broken server claims.
const MAX_FRAME_ACCEPTED: usize = 4 * MAX_PAYLOAD;

/// The gRPC status codes a ttrpc server answers with.
pub mod code {
    /// Success.
    pub const OK: i32 = 0;
    /// The call was cancelled.
    pub const CANCELLED: i32 = 1;
    /// An error with no better code.
    pub const UNKNOWN: i32 = 2;
    /// The request was malformed.
    pub const INVALID_ARGUMENT: i32 = 3;
    /// The call's timeout expired.
    pub const DEADLINE_EXCEEDED: i32 = 4;
    /// No such task or process.
    pub const NOT_FOUND: i32 = 5;
    /// The task or process exists already.
    pub const ALREADY_EXISTS: i32 = 6;
    /// A limit, e.g. the message size, was exceeded.
    pub const RESOURCE_EXHAUSTED: i32 = 8;
    /// The process is not in a state that allows the call.
    pub const FAILED_PRECONDITION: i32 = 9;
    /// Unknown service or method.
    pub const UNIMPLEMENTED: i32 = 12;
    /// The server failed.
    pub const INTERNAL: i32 = 13;
    /// The server cannot serve now.
    pub const UNAVAILABLE: i32 = 14;
}

/// One frame as it travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The stream id.
    pub stream_id: u32,
    /// The frame type ([`TYPE_REQUEST`], [`TYPE_RESPONSE`], ...).
    pub kind: u8,
    /// The flags byte.
    pub flags: u8,
    /// The payload.
    pub payload: Vec<u8>,
}

impl Frame {
    /// The header and the payload, with the payload's true length.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = header(
            self.payload.len() as u32,
            self.stream_id,
            self.kind,
            self.flags,
        );
        bytes.extend_from_slice(&self.payload);
        bytes
    }
}

/// A frame header announcing `length` payload bytes, whatever follows it.
pub fn header(length: u32, stream_id: u32, kind: u8, flags: u8) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_LEN);
    bytes.extend_from_slice(&length.to_be_bytes());
    bytes.extend_from_slice(&stream_id.to_be_bytes());
    bytes.push(kind);
    bytes.push(flags);
    bytes
}

/// A `ttrpc.Request`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// The service, e.g. [`TASK_SERVICE`].
    pub service: String,
    /// The method, e.g. `State`.
    pub method: String,
    /// The encoded request message.
    pub payload: Vec<u8>,
    /// The caller's timeout in nanoseconds; 0 for none.
    pub timeout_nano: i64,
    /// Metadata key/value pairs, e.g. `containerd-namespace-ttrpc`.
    pub metadata: Vec<(String, String)>,
}

impl Request {
    /// A request without timeout or metadata.
    pub fn new(service: &str, method: &str, payload: &[u8]) -> Request {
        Request {
            service: service.into(),
            method: method.into(),
            payload: payload.to_vec(),
            ..Request::default()
        }
    }

    /// The protobuf encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut writer = MessageWriter::new()
            .string(1, &self.service)
            .string(2, &self.method)
            .bytes(3, &self.payload)
            .int(4, self.timeout_nano);
        for (key, value) in &self.metadata {
            let pair = MessageWriter::new()
                .string(1, key)
                .string(2, value)
                .finish();
            writer = writer.message(5, &pair);
        }
        writer.finish()
    }
}

/// A decoded `ttrpc.Response`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The stream id it came on.
    pub stream_id: u32,
    /// `google.rpc.Status.code` ([`code::OK`] when the status is absent).
    pub code: i32,
    /// `google.rpc.Status.message`.
    pub message: String,
    /// The encoded response message.
    pub payload: Vec<u8>,
}

impl Reply {
    /// Decodes a response frame's payload.
    pub fn decode(frame: &Frame) -> io::Result<Reply> {
        let fields = Fields::decode(&frame.payload).map_err(invalid)?;
        let (code, message) = match fields.bytes(1) {
            Some(status) => {
                let status = Fields::decode(status).map_err(invalid)?;
                (
                    status.uint(1).unwrap_or(0) as i64 as i32,
                    status.string(2).unwrap_or_default(),
                )
            }
            None => (code::OK, String::new()),
        };
        Ok(Reply {
            stream_id: frame.stream_id,
            code,
            message,
            payload: fields.bytes(2).unwrap_or_default().to_vec(),
        })
    }

    /// The reply's message fields, failing on bytes that are not a message.
    pub fn fields(&self) -> io::Result<Fields<'_>> {
        Fields::decode(&self.payload).map_err(invalid)
    }
}

fn invalid(error: impl std::error::Error + Send + Sync + 'static) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error)
}

/// One connection to a ttrpc server.
#[derive(Debug)]
pub struct Client {
    stream: UnixStream,
    next_stream_id: u32,
    timeout: Duration,
    /// Bytes read but not yet a whole frame.
    inbox: Vec<u8>,
    /// Whole frames read while waiting for another stream id.
    stashed: VecDeque<Frame>,
    closed: bool,
}

/// How long a call waits for its reply unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl Client {
    /// Connects to the unix socket at `path` (a shim's address without `unix://`).
    pub fn connect(path: &Path) -> io::Result<Client> {
        let stream = UnixStream::connect(path)
            .map_err(|e| io::Error::new(e.kind(), format!("connect to {}: {e}", path.display())))?;
        Ok(Client::from_stream(stream))
    }

    /// A client on a connected stream (one end of a socket pair, in the client's own tests).
    pub fn from_stream(stream: UnixStream) -> Client {
        // A server that stops reading must fail the send, not hang the test; on a connected
        // unix stream this cannot fail.
        let _ = stream.set_write_timeout(Some(DEFAULT_TIMEOUT));
        Client {
            stream,
            next_stream_id: 1,
            timeout: DEFAULT_TIMEOUT,
            inbox: Vec::new(),
            stashed: VecDeque::new(),
            closed: false,
        }
    }

    /// Sets how long [`Client::call`] and [`Client::reply`] wait, and
    /// how long a send may block on a server that does not read.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
        let _ = self
            .stream
            .set_write_timeout(Some(timeout).filter(|t| !t.is_zero()));
    }

    /// Sends `method` of `service` with `payload` and waits for its reply.
    pub fn call(&mut self, service: &str, method: &str, payload: &[u8]) -> io::Result<Reply> {
        let stream_id = self.send(&Request::new(service, method, payload))?;
        self.reply(stream_id)
    }

    /// Sends `request` on the next client stream id (1, 3, 5, ...) without waiting, and returns
    /// that id.
    pub fn send(&mut self, request: &Request) -> io::Result<u32> {
        let stream_id = self.next_stream_id;
        self.next_stream_id = self.next_stream_id.wrapping_add(2);
        self.send_on(stream_id, request)?;
        Ok(stream_id)
    }

    /// Sends `request` on a stream id of the caller's choosing (an even one, a reused one).
    pub fn send_on(&mut self, stream_id: u32, request: &Request) -> io::Result<()> {
        let frame = Frame {
            stream_id,
            kind: TYPE_REQUEST,
            flags: 0,
            payload: request.encode(),
        };
        self.send_raw(&frame.encode())
    }

    /// Writes `bytes` as they are.
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).inspect_err(|e| {
            if matches!(
                e.kind(),
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
            ) {
                self.closed = true;
            }
        })
    }

    /// Waits for the reply on `stream_id`; frames of other streams that arrive meanwhile are
    /// kept for their own [`Client::reply`].
    pub fn reply(&mut self, stream_id: u32) -> io::Result<Reply> {
        let deadline = Instant::now() + self.timeout;
        loop {
            if let Some(index) = self.stashed.iter().position(|f| f.stream_id == stream_id) {
                let frame = self.stashed.remove(index).ok_or_else(|| {
                    io::Error::other("a stashed frame vanished between find and remove")
                })?;
                return Reply::decode(&frame);
            }
            let frame = self.read_frame(deadline)?;
            self.stashed.push_back(frame);
        }
    }

    /// Whether the server closes the connection within `within`. Frames that arrive meanwhile
    /// are kept; a server that keeps answering but never closes gives `false`.
    pub fn peer_closed(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while !self.closed {
            match self.read_frame(deadline) {
                Ok(frame) => self.stashed.push_back(frame),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => return false,
                // Any other error leaves `closed` set when it was a hang-up; a garbage frame
                // is not one, so keep reading past it.
                Err(_) if self.closed => break,
                Err(_) => self.inbox.clear(),
            }
        }
        true
    }

    /// Bytes received that do not make a whole frame yet (a cut-off reply).
    pub fn partial_bytes(&self) -> &[u8] {
        &self.inbox
    }

    fn read_frame(&mut self, deadline: Instant) -> io::Result<Frame> {
        loop {
            if let Some(frame) = self.split_frame()? {
                return Ok(frame);
            }
            if self.closed {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "the server closed the connection ({} bytes of an unfinished frame)",
                        self.inbox.len()
                    ),
                ));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no whole frame arrived in time",
                ));
            }
            self.stream.set_read_timeout(Some(left))?;
            let mut buffer = [0u8; 64 * 1024];
            match self.stream.read(&mut buffer) {
                Ok(0) => self.closed = true,
                Ok(n) => self.inbox.extend_from_slice(&buffer[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => self.closed = true,
                Err(e) => return Err(e),
            }
        }
    }

    fn split_frame(&mut self) -> io::Result<Option<Frame>> {
        if self.inbox.len() < HEADER_LEN {
            return Ok(None);
        }
        let word = |at: usize| {
            u32::from_be_bytes([
                self.inbox[at],
                self.inbox[at + 1],
                self.inbox[at + 2],
                self.inbox[at + 3],
            ])
        };
        let length = word(0) as usize;
        if length > MAX_FRAME_ACCEPTED {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the server announced a {length}-byte frame"),
            ));
        }
        if self.inbox.len() < HEADER_LEN + length {
            return Ok(None);
        }
        let frame = Frame {
            stream_id: word(4),
            kind: self.inbox[8],
            flags: self.inbox[9],
            payload: self.inbox[HEADER_LEN..HEADER_LEN + length].to_vec(),
        };
        self.inbox.drain(..HEADER_LEN + length);
        Ok(Some(frame))
    }
}

/// `{1 id, 2 exec_id}`: StateRequest, and the shape of StartRequest, DeleteRequest and
/// WaitRequest too (an empty `exec_id` means the init process).
pub fn process_request(id: &str, exec_id: &str) -> Vec<u8> {
    MessageWriter::new()
        .string(1, id)
        .string(2, exec_id)
        .finish()
}

/// An `ExecProcessRequest{1 id, 2 exec_id, 4 stdin, 5 stdout, 6 stderr, 7 spec}` running `args`
/// as root in `/`, with the FIFO paths of `stdio` (empty for none), as CRI sends one.
pub fn exec_request(id: &str, exec_id: &str, args: &[&str], stdio: [&str; 3]) -> Vec<u8> {
    let spec = serde_json::json!({
        "args": args,
        "cwd": "/",
        "env": ["PATH=/bin"],
        "user": {"uid": 0, "gid": 0},
    });
    let any = MessageWriter::new()
        .string(
            1,
            "types.containerd.io/opencontainers/runtime-spec/1/Process",
        )
        .bytes(2, spec.to_string().as_bytes())
        .finish();
    let [stdin, stdout, stderr] = stdio;
    MessageWriter::new()
        .string(1, id)
        .string(2, exec_id)
        .string(4, stdin)
        .string(5, stdout)
        .string(6, stderr)
        .message(7, &any)
        .finish()
}

/// `containerd.v1.types.Status` values, as `StateResponse` field 4 carries them.
pub mod status {
    /// Unknown (the field's default).
    pub const UNKNOWN: u64 = 0;
    /// Created, not started.
    pub const CREATED: u64 = 1;
    /// Running.
    pub const RUNNING: u64 = 2;
    /// Exited.
    pub const STOPPED: u64 = 3;
    /// Frozen.
    pub const PAUSED: u64 = 4;
    /// Being frozen.
    pub const PAUSING: u64 = 5;
}

#[cfg(test)]
mod tests;
