package larktest

import (
	"net/http"
	"slices"
	"strconv"
)

// FileMessage is a file message someone sent, which the fake serves to
// the bot: GET /open-apis/im/v1/messages/:id answers it, and
// GET …/:id/resources/:file_key?type=file its content.
type FileMessage struct {
	MessageID string
	ChatID    string
	Sender    string // open_id
	FileKey   string
	FileName  string
	Data      []byte
}

// AddFileMessage makes the fake know a file message, for a command sent
// as a reply to it (Message.ParentID); see FileMessageEvent for the event
// of the file message itself.
func (s *Server) AddFileMessage(f FileMessage) FileMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.FileKey == "" {
		s.seq++
		f.FileKey = "file_v3_in_" + strconv.Itoa(s.seq)
	}
	s.files[f.MessageID] = f
	return f
}

// Downloads returns the message ids whose file the bot downloaded, in
// order.
func (s *Server) Downloads() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.downloads)
}

func (s *Server) serveGetMessage(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+TenantToken {
		writeJSON(w, 401, map[string]any{"code": 99991663, "msg": "invalid access token"})
		return
	}
	s.mu.Lock()
	f, ok := s.files[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		// What Lark answers for a message the bot cannot see.
		writeJSON(w, 400, map[string]any{"code": 230002, "msg": "The bot is not in the chat or the message does not exist."})
		return
	}
	content := string(mustJSON(map[string]string{"file_key": f.FileKey, "file_name": f.FileName}))
	writeJSON(w, 200, map[string]any{"code": 0, "msg": "success", "data": map[string]any{"items": []any{map[string]any{
		"message_id": f.MessageID, "chat_id": f.ChatID, "msg_type": "file", "create_time": "1764550800000",
		"sender": map[string]any{"id": f.Sender, "id_type": "open_id", "sender_type": "user"},
		"body":   map[string]any{"content": content},
	}}}})
}

func (s *Server) serveResource(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+TenantToken {
		writeJSON(w, 401, map[string]any{"code": 99991663, "msg": "invalid access token"})
		return
	}
	s.mu.Lock()
	f, ok := s.files[r.PathValue("id")]
	if ok && f.FileKey == r.PathValue("key") && r.URL.Query().Get("type") == "file" {
		s.downloads = append(s.downloads, f.MessageID)
	} else {
		ok = false
	}
	s.mu.Unlock()
	if !ok {
		writeJSON(w, 400, map[string]any{"code": 234003, "msg": "File not in msg."})
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+f.FileName+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(f.Data)))
	_, _ = w.Write(f.Data)
}

// FileMessageEvent is the im.message.receive_v1 event of a file message
// f sent by f.Sender in a one-to-one chat ("p2p") or a group.
func FileMessageEvent(eventID, chatType string, f FileMessage) []byte {
	return MessageEvent(Message{
		EventID: eventID, ChatType: chatType, ChatID: f.ChatID, Sender: f.Sender, MsgType: "file",
		MessageID: f.MessageID, FileKey: f.FileKey, FileName: f.FileName,
	})
}

// Reply is a text message by sender in chat that replies to message
// parentID; in a group ("group") it @-mentions the bot first.
func Reply(eventID, chatType, chatID, sender, parentID, text string) []byte {
	m := Message{EventID: eventID, ChatType: chatType, ChatID: chatID, Sender: sender, Text: text, ParentID: parentID}
	if chatType != "p2p" {
		m.Text = "@_user_1 " + text
		m.Mentions = []Mention{BotMention("@_user_1")}
	}
	return MessageEvent(m)
}
