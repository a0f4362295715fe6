package larktest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	larkevent "github.com/larksuite/oapi-sdk-go/v3/event"
)

// The routes the adapter mounts; either takes events and card callbacks.
const (
	PathEvents = "/lark/events"
	PathCards  = "/lark/cards"
)

//go:embed fixtures/*.json
var fixtures embed.FS

// Fixture returns one of the embedded public Lark examples the builders
// start from (see fixtures/SOURCES.md): lark_im_message_receive_v1.json,
// lark_card_action_trigger_button.json. It panics on an unknown name.
func Fixture(name string) []byte {
	b, err := fixtures.ReadFile("fixtures/" + name)
	if err != nil {
		panic("larktest: " + err.Error())
	}
	return b
}

func fixtureMap(name string) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(Fixture(name), &m); err != nil {
		panic("larktest: " + name + ": " + err.Error())
	}
	return m
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("larktest: " + err.Error())
	}
	return b
}

// Mention is one @-mention in a message: its key in the text (@_user_1),
// whom it names, and the name shown.
type Mention struct {
	Key, OpenID, Name string
}

// BotMention is the mention of the bot as key.
func BotMention(key string) Mention { return Mention{Key: key, OpenID: BotOpenID, Name: BotName} }

// Message describes an im.message.receive_v1 event.
type Message struct {
	EventID   string
	ChatType  string // "group" or "p2p"
	ChatID    string
	Sender    string // the sender's open_id
	MsgType   string // "text" when empty; "post" is rich text made of Text; other types carry an image key
	Text      string // the text, with mention keys as Lark writes them
	Mentions  []Mention
	MessageID string // "om_" + EventID when empty
	Token     string // verification token; VerificationToken when empty
	Tenant    string // header.tenant_key; TenantKey when empty
	// ParentID is the message this one replies to (parent_id, root_id);
	// empty for a message that replies to none.
	ParentID string
	// FileKey and FileName are the content of a "file" message.
	FileKey, FileName string
}

// MessageEvent is the body of an im.message.receive_v1 event, built from
// the official example.
func MessageEvent(msg Message) []byte {
	m := fixtureMap("lark_im_message_receive_v1.json")
	h := m["header"].(map[string]any)
	h["event_id"] = msg.EventID
	h["token"] = or(msg.Token, VerificationToken)
	h["tenant_key"] = or(msg.Tenant, TenantKey)
	ev := m["event"].(map[string]any)
	ev["sender"].(map[string]any)["sender_id"].(map[string]any)["open_id"] = msg.Sender
	em := ev["message"].(map[string]any)
	em["message_id"] = or(msg.MessageID, "om_"+msg.EventID)
	em["chat_id"] = msg.ChatID
	em["chat_type"] = msg.ChatType
	em["message_type"] = or(msg.MsgType, "text")
	if msg.ParentID != "" {
		em["parent_id"], em["root_id"] = msg.ParentID, msg.ParentID
	} else {
		// The official example is a reply; without ParentID the message
		// starts a conversation of its own.
		delete(em, "parent_id")
		delete(em, "root_id")
	}
	switch em["message_type"] {
	case "text":
		em["content"] = string(mustJSON(map[string]string{"text": msg.Text}))
	case "file":
		em["content"] = string(mustJSON(map[string]string{"file_key": msg.FileKey, "file_name": msg.FileName}))
	case "post":
		em["content"] = string(mustJSON(PostContent(msg.Text, msg.Mentions)))
	default:
		em["content"] = `{"image_key":"img_v2_0001"}`
	}
	mentions := []any{}
	for _, x := range msg.Mentions {
		mentions = append(mentions, map[string]any{"key": x.Key, "id": map[string]any{"open_id": x.OpenID}, "name": x.Name, "tenant_key": "736588c9260f175e"})
	}
	em["mentions"] = mentions
	return mustJSON(m)
}

// PostContent is the content of a received rich-text (post) message
// made of text, one paragraph per line: each mention key of mentions in
// it is an "at" element, as Lark writes them, the rest "text" runs.
func PostContent(text string, mentions []Mention) map[string]any {
	var paras []any
	for _, line := range strings.Split(text, "\n") {
		var els []any
		for line != "" {
			at, key := -1, ""
			for _, m := range mentions {
				if i := strings.Index(line, m.Key); i >= 0 && (at < 0 || i < at) {
					at, key = i, m.Key
				}
			}
			if at < 0 {
				els = append(els, map[string]any{"tag": "text", "text": line, "style": []any{}})
				break
			}
			if at > 0 {
				els = append(els, map[string]any{"tag": "text", "text": line[:at], "style": []any{}})
			}
			name := ""
			for _, m := range mentions {
				if m.Key == key {
					name = m.Name
				}
			}
			els = append(els, map[string]any{"tag": "at", "user_id": key, "user_name": name, "style": []any{}})
			line = line[at+len(key):]
		}
		paras = append(paras, els)
	}
	return map[string]any{"title": "", "content": paras}
}

// MessageID is the message id MessageEvent gives the event's message when
// none is set; the adapter replies to it.
func MessageID(eventID string) string { return "om_" + eventID }

// GroupMention is a text message in group chat by sender that
// @-mentions the bot first: "@_user_1 text".
func GroupMention(eventID, chatID, sender, text string) []byte {
	return MessageEvent(Message{
		EventID: eventID, ChatType: "group", ChatID: chatID, Sender: sender,
		Text: "@_user_1 " + text, Mentions: []Mention{BotMention("@_user_1")},
	})
}

// P2PChat is the chat id P2PMessage uses for sender's chat with the bot.
func P2PChat(sender string) string { return "oc_p2p_" + sender }

// P2PMessage is a text message from sender in their one-to-one chat with
// the bot.
func P2PMessage(eventID, sender, text string) []byte {
	return MessageEvent(Message{EventID: eventID, ChatType: "p2p", ChatID: P2PChat(sender), Sender: sender, Text: text})
}

// CardAction describes a card.action.trigger callback: a click on a
// button whose value is {"action": Action, "value": Value}, or the
// submission of a form whose submit button carries that value.
type CardAction struct {
	EventID   string
	Operator  string // who clicked (open_id)
	ChatID    string // chat of the card's message
	MessageID string // the card's message
	Action    string
	Value     string
	Token     string // verification token; VerificationToken when empty
	// Tenant is header.tenant_key and operator.tenant_key, as Lark's
	// documented callback carries both; TenantKey when empty.
	Tenant string
	// Name is action.name, the name of the clicked button; the fixture's
	// when empty.
	Name string
	// FormValue is action.form_value, the form's fields by input name
	// (e.g. {"xunji_input": "the reason"}); an empty object when nil.
	FormValue map[string]string
	// InputValue is action.input_value, sent by an input element outside
	// a form; omitted when empty.
	InputValue string
}

// CardActionEvent is the body of a card.action.trigger callback, built
// from the larksuite/cli example.
func CardActionEvent(c CardAction) []byte {
	m := fixtureMap("lark_card_action_trigger_button.json")
	h := m["header"].(map[string]any)
	h["event_id"] = c.EventID
	h["token"] = or(c.Token, VerificationToken)
	h["tenant_key"] = or(c.Tenant, TenantKey)
	ev := m["event"].(map[string]any)
	ev["operator"].(map[string]any)["open_id"] = c.Operator
	ev["operator"].(map[string]any)["tenant_key"] = or(c.Tenant, TenantKey)
	act := ev["action"].(map[string]any)
	act["value"] = map[string]any{"action": c.Action, "value": c.Value}
	if c.Name != "" {
		act["name"] = c.Name
	}
	if c.FormValue != nil {
		fv := map[string]any{}
		for k, v := range c.FormValue {
			fv[k] = v
		}
		act["form_value"] = fv
	}
	if c.InputValue != "" {
		act["input_value"] = c.InputValue
	}
	ctx := ev["context"].(map[string]any)
	ctx["open_message_id"] = c.MessageID
	ctx["open_chat_id"] = c.ChatID
	return mustJSON(m)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Encrypt is Lark's Encrypt Key algorithm: AES-256-CBC with key
// SHA256(encryptKey), a random IV in front, PKCS#7 padding, base64.
func Encrypt(key string, plain []byte) string {
	k := sha256.Sum256([]byte(key))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		panic("larktest: " + err.Error())
	}
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := append(append([]byte(nil), plain...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	out := make([]byte, aes.BlockSize+len(buf))
	_, _ = rand.Read(out[:aes.BlockSize])
	cipher.NewCBCEncrypter(block, out[:aes.BlockSize]).CryptBlocks(out[aes.BlockSize:], buf)
	return base64.StdEncoding.EncodeToString(out)
}

// Signature is X-Lark-Signature: SHA-256 of timestamp, nonce, Encrypt Key
// and body, hex.
func Signature(timestamp, nonce, key string, body []byte) string {
	return larkevent.Signature(timestamp, nonce, key, string(body))
}

var nonces atomic.Int64

// Sign returns the X-Lark-Request-Timestamp, -Nonce (fresh each call) and
// -Signature headers of body signed with key at time at.
func Sign(key string, at time.Time, body []byte) http.Header {
	ts, nonce := strconv.FormatInt(at.Unix(), 10), "nonce-"+strconv.FormatInt(nonces.Add(1), 10)
	h := http.Header{}
	h.Set(larkevent.EventRequestTimestamp, ts)
	h.Set(larkevent.EventRequestNonce, nonce)
	h.Set(larkevent.EventSignature, Signature(ts, nonce, key, body))
	return h
}

// Seal encrypts body with key as {"encrypt": …} and signs the sealed
// body at time at, as Lark sends callbacks when an Encrypt Key is set.
func Seal(key string, body []byte, at time.Time) ([]byte, http.Header) {
	sealed := mustJSON(map[string]string{"encrypt": Encrypt(key, body)})
	return sealed, Sign(key, at, sealed)
}

// Client posts callbacks to a server where the adapter is mounted,
// sealed when EncryptKey is set and plain otherwise.
type Client struct {
	URL        string           // base URL of the server with the adapter's routes
	EncryptKey string           // the app's Encrypt Key; "" for plain callbacks
	Now        func() time.Time // signing time; time.Now when nil
	HTTP       *http.Client     // http.DefaultClient when nil
}

// Result is the adapter's answer to a callback, body read.
type Result struct {
	Status int
	Header http.Header
	Body   []byte
}

// Post sends body to path as Lark would.
func (c *Client) Post(path string, body []byte) (Result, error) {
	hdr := http.Header{}
	if c.EncryptKey != "" {
		now := time.Now
		if c.Now != nil {
			now = c.Now
		}
		body, hdr = Seal(c.EncryptKey, body, now())
	}
	return c.PostRaw(path, body, hdr)
}

// PostRaw sends body to path with the headers as given.
func (c *Client) PostRaw(path string, body []byte, hdr http.Header) (Result, error) {
	r, err := http.NewRequest(http.MethodPost, c.URL+path, bytes.NewReader(body))
	if err != nil {
		return Result{}, err
	}
	for k, v := range hdr {
		r.Header[k] = v
	}
	r.Header.Set("Content-Type", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(r)
	if err != nil {
		return Result{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return Result{Status: resp.StatusCode, Header: resp.Header, Body: b}, err
}

// Event posts an event (PathEvents).
func (c *Client) Event(body []byte) (Result, error) { return c.Post(PathEvents, body) }

// Card posts a card callback (PathCards).
func (c *Client) Card(body []byte) (Result, error) { return c.Post(PathCards, body) }

// CardAnswer is the adapter's answer to a card callback.
type CardAnswer struct {
	Toast struct {
		Type    string `json:"type"`
		Content string `json:"content"`
	} `json:"toast"`
	Card struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	} `json:"card"`
}

// CardAnswer parses the answer to a card callback.
func (r Result) CardAnswer() (CardAnswer, error) {
	var a CardAnswer
	err := json.Unmarshal(r.Body, &a)
	return a, err
}

// Text returns every string in the answer body (JSON opened), one per line.
func (r Result) Text() string {
	var v any
	if json.Unmarshal(r.Body, &v) != nil {
		return string(r.Body)
	}
	var b bytes.Buffer
	for _, s := range leafStrings(v) {
		b.WriteString(s)
		b.WriteString("\n")
	}
	return b.String()
}
