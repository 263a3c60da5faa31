//! Incremental Server-Sent Events decoder.
//!
//! Upstream bodies arrive in arbitrary pieces: an event, a line, even a CRLF pair may be split
//! across chunks. [`SseDecoder::push`] takes whatever bytes arrived and returns the events that
//! are now complete, each with its exact raw bytes (so an event the guard does not change is
//! forwarded byte for byte) and its parsed `data` (multi-line data joined with `\n`, as the
//! SSE specification says). Lines end with LF, CRLF or CR; comment lines (`:`) and fields other
//! than `data` and `event` are kept in the raw bytes and otherwise ignored.

/// Largest event the decoder buffers. A longer one is released as-is (unparsed) rather than
/// held without bound.
pub const MAX_EVENT_BYTES: usize = 1 << 20;

/// One complete event: its exact raw bytes, and its `event` and `data` fields read from them
/// (a field of one line is kept as a span of the raw text, not copied).
#[derive(Debug, Clone)]
pub struct SseEvent {
    raw: Raw,
    event: Option<Field>,
    data: Option<Field>,
    /// Released unread because it grew past [`MAX_EVENT_BYTES`] (a part of such an event).
    too_long: bool,
}

/// An event's bytes: as text when they are UTF-8 (only then are its fields read).
#[derive(Debug, Clone)]
enum Raw {
    Text(String),
    Bytes(Vec<u8>),
}

/// A field's value: a span of the raw text, or (several `data` lines) their join.
#[derive(Debug, Clone)]
enum Field {
    Span(usize, usize),
    Joined(String),
}

impl SseEvent {
    /// An event released as-is, its fields unread (`too_long`: a part of one that grew past
    /// [`MAX_EVENT_BYTES`]; else one that is not UTF-8).
    fn unparsed(raw: Vec<u8>, too_long: bool) -> Self {
        SseEvent {
            raw: Raw::Bytes(raw),
            event: None,
            data: None,
            too_long,
        }
    }

    /// Was the event released unread: longer than [`MAX_EVENT_BYTES`], or not UTF-8?
    pub fn is_unread(&self) -> bool {
        matches!(self.raw, Raw::Bytes(_))
    }

    /// Was it released unread for its length ([`SseEvent::is_unread`])? The first
    /// [`MAX_EVENT_BYTES`] and more of an event are released as one unread event, the rest up
    /// to its blank line as another.
    pub fn is_too_long(&self) -> bool {
        self.too_long
    }

    /// The exact bytes of the event, including its terminating blank line.
    pub fn raw(&self) -> &[u8] {
        match &self.raw {
            Raw::Text(t) => t.as_bytes(),
            Raw::Bytes(b) => b,
        }
    }

    fn field<'a>(&'a self, f: Option<&'a Field>) -> Option<&'a str> {
        match (f?, &self.raw) {
            (Field::Joined(s), _) => Some(s),
            (Field::Span(a, b), Raw::Text(t)) => t.get(*a..*b),
            (Field::Span(..), Raw::Bytes(_)) => None,
        }
    }

    /// The `event:` field, if any.
    pub fn event(&self) -> Option<&str> {
        self.field(self.event.as_ref())
    }

    /// The `data:` lines joined with `\n`; `None` if the event had no data line (or was not
    /// valid UTF-8, or was too large to parse).
    pub fn data(&self) -> Option<&str> {
        self.field(self.data.as_ref())
    }
}

/// Events are equal when their bytes and fields are (however the fields are held).
impl PartialEq for SseEvent {
    fn eq(&self, other: &Self) -> bool {
        self.raw() == other.raw() && self.event() == other.event() && self.data() == other.data()
    }
}

impl Eq for SseEvent {}

/// The decoder's state between chunks.
#[derive(Debug, Default)]
pub struct SseDecoder {
    /// Bytes of the event in progress (and of any line not yet complete).
    pending: Vec<u8>,
    /// Where in `pending` the next line starts.
    cursor: usize,
    /// Buffers of events handed back ([`SseDecoder::recycle`]), for the next events' text.
    spare: Vec<String>,
    /// The start of the event in progress was released unread for its length: its rest is
    /// released unread too.
    cut: bool,
}

/// Buffers a decoder keeps for reuse, and the largest it keeps.
const SPARE_BUFFERS: usize = 128;
const SPARE_CAPACITY: usize = 1024;

impl SseDecoder {
    pub fn new() -> Self {
        SseDecoder::default()
    }

    /// Feed the next piece of the body; get the events it completed, in order. Every blank
    /// line ends an event (blank lines between events come out as events without data).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        self.pending.extend_from_slice(bytes);
        // Room for the events of a chunk of typical ones (a chat delta event is ~150 bytes).
        let mut events = Vec::with_capacity(bytes.len() / 128);
        let mut event_start = 0;
        while let Some(rel) = self
            .pending
            .get(self.cursor..)
            .and_then(|r| memchr::memchr2(b'\n', b'\r', r))
        {
            let j = self.cursor + rel;
            let term = if self.pending[j] == b'\r' {
                match self.pending.get(j + 1) {
                    // A CR at the end of what arrived may be the first half of a CRLF.
                    None => break,
                    Some(b'\n') => 2,
                    Some(_) => 1,
                }
            } else {
                1
            };
            let blank = j == self.cursor;
            self.cursor = j + term;
            // The blank line that ends an event nearly always follows at once, as an LF: taken
            // here without another search.
            let blank = blank
                || self.pending.get(self.cursor) == Some(&b'\n') && {
                    self.cursor += 1;
                    true
                };
            if blank {
                let raw = &self.pending[event_start..self.cursor];
                if self.cut {
                    self.cut = false;
                    events.push(SseEvent::unparsed(raw.to_vec(), true));
                } else {
                    let buffer = self.spare.pop();
                    events.push(parse_event(raw, buffer));
                }
                event_start = self.cursor;
            }
        }
        self.pending.drain(..event_start);
        self.cursor -= event_start;
        if self.pending.len() > MAX_EVENT_BYTES {
            self.cut = true;
            events.push(SseEvent::unparsed(std::mem::take(&mut self.pending), true));
            self.cursor = 0;
        }
        events
    }

    /// The end of the body: whatever is buffered, as a final (possibly unterminated) event.
    pub fn finish(&mut self) -> Option<SseEvent> {
        self.cursor = 0;
        if self.pending.is_empty() {
            return None;
        }
        let raw = std::mem::take(&mut self.pending);
        if std::mem::take(&mut self.cut) {
            return Some(SseEvent::unparsed(raw, true));
        }
        Some(parse_event(&raw, None))
    }

    /// Hand back an event that is done with: its buffer holds a later event's text (a stream
    /// of thousands of small events then allocates a few buffers, not one per event).
    pub fn recycle(&mut self, event: SseEvent) {
        if let Raw::Text(text) = event.raw {
            if self.spare.len() < SPARE_BUFFERS && text.capacity() <= SPARE_CAPACITY {
                self.spare.push(text);
            }
        }
    }
}

/// An event's raw bytes with its data replaced by `data` (one line: `data` must hold no line
/// break, as serialised JSON does not): every other line — `event:`, `id:`, `retry:`,
/// comments — is kept in order, the new `data:` line takes the place of the first old one, and
/// the event ends with a blank line.
pub fn with_data(raw: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + data.len());
    let mut placed = false;
    let text = String::from_utf8_lossy(raw);
    for line in text.split(['\n', '\r']).filter(|l| !l.is_empty()) {
        if line == "data" || line.starts_with("data:") {
            if !placed {
                out.extend_from_slice(b"data: ");
                out.extend_from_slice(data);
                out.push(b'\n');
                placed = true;
            }
            continue;
        }
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    if !placed {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(data);
        out.push(b'\n');
    }
    out.push(b'\n');
    out
}

/// Parse the fields of one event's raw bytes (its text kept in `buffer` when one is given).
fn parse_event(raw: &[u8], buffer: Option<String>) -> SseEvent {
    let text = match std::str::from_utf8(raw) {
        Ok(text) => {
            let mut kept = buffer.unwrap_or_default();
            kept.clear();
            kept.push_str(text);
            kept
        }
        Err(_) => return SseEvent::unparsed(raw.to_vec(), false),
    };
    let mut event = None;
    let mut data: Option<Field> = None;
    // Lines end at LF or CR (a CRLF leaves an empty line between, skipped like any other).
    let mut start = 0;
    loop {
        // Empty lines (the event's last, a CRLF's LF) skipped without a search.
        while let Some(b'\n' | b'\r') = text.as_bytes().get(start) {
            start += 1;
        }
        if start >= text.len() {
            break;
        }
        let end = memchr::memchr2(
            b'\n',
            b'\r',
            text.as_bytes().get(start..).unwrap_or_default(),
        )
        .map_or(text.len(), |p| start + p);
        // Both ends sit on ASCII bytes or the end, so on char boundaries.
        let line = text.get(start..end).unwrap_or_default();
        let line_start = start;
        start = end + 1;
        if line.is_empty() || line.starts_with(':') {
            continue;
        }
        let (field, value_at) = match memchr::memchr(b':', line.as_bytes()) {
            Some(c) => {
                let v = c + 1 + usize::from(line.as_bytes().get(c + 1) == Some(&b' '));
                (&line[..c], line_start + v)
            }
            None => (line, end),
        };
        let value = Field::Span(value_at, end);
        match field {
            "data" => {
                data = Some(match data {
                    None => value,
                    Some(before) => {
                        let mut joined = match before {
                            Field::Joined(j) => j,
                            Field::Span(a, b) => text.get(a..b).unwrap_or_default().to_string(),
                        };
                        joined.push('\n');
                        joined.push_str(text.get(value_at..end).unwrap_or_default());
                        Field::Joined(joined)
                    }
                })
            }
            "event" => event = Some(value),
            _ => {}
        }
    }
    SseEvent {
        raw: Raw::Text(text),
        event,
        data,
        too_long: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_data_keeping_other_fields() {
        let raw = b"event: message\r\nid: 7\r\ndata: {\"a\":\r\ndata: 1}\r\n: note\r\n\r\n";
        assert_eq!(
            with_data(raw, b"{\"a\":2}"),
            b"event: message\nid: 7\ndata: {\"a\":2}\n: note\n\n".to_vec()
        );
    }

    fn decode_all(pieces: &[&[u8]]) -> Vec<SseEvent> {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for p in pieces {
            out.extend(d.push(p));
        }
        out.extend(d.finish());
        out
    }

    #[test]
    fn events_lines_and_endings() {
        let body =
            b"data: a\n\ndata: b1\ndata: b2\r\n\r\n: comment\nevent: x\ndata:c\r\rdata: [DONE]\n\n";
        let events = decode_all(&[body]);
        let data: Vec<_> = events.iter().filter_map(SseEvent::data).collect();
        assert_eq!(data, ["a", "b1\nb2", "c", "[DONE]"]);
        assert_eq!(events[2].event(), Some("x"));
        let raw: Vec<u8> = events.iter().flat_map(|e| e.raw().to_vec()).collect();
        assert_eq!(raw, body);
    }

    #[test]
    fn unterminated_tail_is_flushed_at_finish() {
        let events = decode_all(&[b"data: a\n\ndata: partial"]);
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].data(), Some("partial"));
    }

    proptest::proptest! {
        /// However the body is cut, the same events come out and no byte is lost or added.
        #[test]
        fn any_split_gives_the_same_events(cuts in proptest::collection::vec(0usize..200, 0..12)) {
            let body: &[u8] = b"data: {\"x\": 1}\n\n: keep-alive\r\n\r\nevent: e\r\ndata: l1\r\ndata: l2\r\n\r\ndata: cr\r\rdata: [DONE]\n\n";
            let whole = decode_all(&[body]);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (body.len() + 1)).collect();
            cuts.sort_unstable();
            let mut pieces = Vec::new();
            let mut at = 0;
            for c in cuts { pieces.push(&body[at..c]); at = c; }
            pieces.push(&body[at..]);
            let split = decode_all(&pieces);
            proptest::prop_assert_eq!(&split, &whole);
            let raw: Vec<u8> = split.iter().flat_map(|e| e.raw().to_vec()).collect();
            proptest::prop_assert_eq!(raw, body.to_vec());
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_are_conserved(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), cut in 0usize..300) {
            let cut = cut.min(body.len());
            let events = decode_all(&[&body[..cut], &body[cut..]]);
            let raw: Vec<u8> = events.iter().flat_map(|e| e.raw().to_vec()).collect();
            proptest::prop_assert_eq!(raw, body);
        }
    }
}
