package slacktest

import (
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// File is a file shared in a message, as an event lists it; Server.File
// makes one the fake serves, and DirectMessageWithFiles and
// AppMentionWithFiles put it on an event.
type File struct {
	ID   string
	Name string
	MIME string
	Size int    // the size the event states (the content's length by default)
	URL  string // url_private and url_private_download
}

// JSON is the file object of an event's "files" list.
func (f File) JSON() map[string]any {
	ext := strings.TrimPrefix(path.Ext(f.Name), ".")
	return map[string]any{
		"id": f.ID, "name": f.Name, "title": f.Name, "mimetype": f.MIME, "filetype": ext,
		"size": f.Size, "mode": "hosted", "is_external": false,
		"url_private": f.URL, "url_private_download": f.URL + "?download=1",
	}
}

type hostedFile struct {
	mime string
	data []byte
}

// File makes the fake serve data as a shared file (GET /files/{id}/{name},
// which answers only with a bearer token, like files.slack.com; without
// one it answers a sign-in page) and returns its description for an
// event. Downloads are recorded as calls of method "files.download".
func (s *Server) File(name, mime string, data []byte) File {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := "F0FILE" + strconv.Itoa(len(s.files)+1)
	s.files[id] = hostedFile{mime: mime, data: data}
	return File{ID: id, Name: name, MIME: mime, Size: len(data), URL: s.srv.URL + "/files/" + id + "/" + url.PathEscape(name)}
}

// Downloads returns the recorded file downloads.
func (s *Server) Downloads() []Call { return s.CallsOf("files.download") }

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f, ok := s.files[r.PathValue("id")]
	s.mu.Unlock()
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "Bearer xoxb-") {
		// What files.slack.com answers without a token or without the
		// files:read scope: its sign-in page.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!DOCTYPE html><html><body>Sign in to Slack</body></html>"))
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.record(Call{Method: "files.download", Path: r.URL.Path, Auth: auth})
	w.Header().Set("Content-Type", f.mime)
	w.Header().Set("Content-Length", strconv.Itoa(len(f.data)))
	_, _ = w.Write(f.data)
}

// DirectMessageWithFiles is a message.im body with subtype file_share:
// user sent files with text (which may be empty) in the direct message
// channel with the bot.
func DirectMessageWithFiles(eventID, user, channel, text string, files ...File) []byte {
	return EditEvent(DirectMessage(eventID, user, channel, text), func(_, ev map[string]any) {
		ev["subtype"] = "file_share"
		ev["upload"] = true
		ev["files"] = filesJSON(files)
	})
}

// AppMentionWithFiles is an app_mention body whose message carried files.
func AppMentionWithFiles(eventID, user, channel, text string, files ...File) []byte {
	return EditEvent(AppMention(eventID, user, channel, text), func(_, ev map[string]any) {
		ev["upload"] = true
		ev["files"] = filesJSON(files)
	})
}

func filesJSON(files []File) []any {
	out := make([]any, 0, len(files))
	for _, f := range files {
		out = append(out, f.JSON())
	}
	return out
}
