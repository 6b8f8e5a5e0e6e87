//! The files: each session's record (its transcript in memory, redacted) written line by line as frames arrive, the
//! recorded URL with its redacted query.

use super::*;

impl State {
    /// `url` with redacted query parameters.
    pub(super) fn recorded_url(&self, url: &str) -> String {
        let Some((base, query)) = url.split_once('?') else {
            return url.to_owned();
        };
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let redacted = self.redact.iter().any(|field| *field == name);
            serializer.append_pair(&name, if redacted { crate::history::REDACTED } else { &value });
        }
        format!("{base}?{}", serializer.finish())
    }

    /// Starts session `number`'s record (and its file, header first).
    pub(super) fn open_record(&self, number: usize, url: String, handshake: Handshake) -> Arc<Mutex<Record>> {
        let history = History::new().with_url(url).with_handshake(handshake);
        let mut record = Record {
            history,
            file: None,
            write_error: None,
            reader: self.protocol.as_deref().map(crate::protocol::Reader::new),
        };
        if let Some(out) = &self.out {
            let path = Recorder::session_path(out, number);
            match std::fs::File::create(&path) {
                Ok(file) => {
                    record.file = Some((path, file));
                    let header = header_line(&record.history);
                    record.write(&header);
                }
                Err(error) => record.write_error = Some(format!("cannot create {}: {error}", path.display())),
            }
        }
        let record = Arc::new(Mutex::new(record));
        lock(&self.records).insert(number, Arc::clone(&record));
        record
    }

    /// Writes the HAR file again with every session that has ended (and those still open, as far as they went), in
    /// the order they started. A failure is kept with the write errors.
    pub(super) fn write_har(&self) {
        let Some(path) = &self.har else { return };
        let histories: Vec<History> = lock(&self.records)
            .values()
            .map(|record| lock(record).history.clone())
            .collect();
        if let Err(error) = std::fs::write(path, History::to_har_all(&histories)) {
            let message = format!("cannot write {}: {error}", path.display());
            if let Some(record) = lock(&self.records).values().last() {
                lock(record).write_error.get_or_insert(message);
            }
        }
    }
}

impl Record {
    pub(super) fn push(&mut self, direction: Direction, kind: FrameKind) {
        let decoded = self.reader.as_mut().and_then(|reader| reader.read(direction, &kind));
        let index = self.history.record(direction, kind);
        if let Some(decoded) = decoded {
            self.history.set_decoded(index, decoded);
        }
        let line = frame_line(&self.history.frames()[index]);
        self.write(&line);
    }

    /// Appends a line to the file, at once: what was relayed is on disk before the next frame is read.
    pub(super) fn write(&mut self, line: &str) {
        use std::io::Write as _;
        let Some((path, file)) = &mut self.file else { return };
        let written = file.write_all(line.as_bytes()).and_then(|()| file.write_all(b"\n"));
        if let Err(error) = written {
            self.write_error
                .get_or_insert_with(|| format!("cannot write {}: {error}", path.display()));
        }
    }

    pub(super) fn finish(&mut self) {
        if let Some((path, file)) = &mut self.file {
            if let Err(error) = file.sync_data() {
                self.write_error
                    .get_or_insert_with(|| format!("cannot write {}: {error}", path.display()));
            }
        }
    }
}
