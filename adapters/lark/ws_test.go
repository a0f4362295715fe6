package lark

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	larkws "github.com/larksuite/oapi-sdk-go/v3/ws"

	"github.com/xunji-bot/xunji/bot/bottest"
)

// wsConn is the server side of a long connection the SDK client opened.
type wsConn struct {
	*websocket.Conn
	appID, appSecret string
}

// wsEndpoint answers the SDK's POST /callback/ws/endpoint with the URL of
// the fake's own WebSocket, and a client config that neither reconnects
// nor pings during a test.
func (f *fakeLark) wsEndpoint(w http.ResponseWriter, r *http.Request) {
	var creds struct{ AppID, AppSecret string }
	_ = json.NewDecoder(r.Body).Decode(&creds)
	if creds.AppSecret != "secret" {
		writeJSON(w, 200, map[string]any{"code": 403, "msg": "bad credentials"})
		return
	}
	wsURL := "ws" + strings.TrimPrefix(f.URL, "http") + "/ws/conn?device_id=dev1&service_id=7&app=" + creds.AppID
	writeJSON(w, 200, larkws.EndpointResp{Code: 0, Data: &larkws.Endpoint{
		Url: wsURL, ClientConfig: &larkws.ClientConfig{PingInterval: 3600, ReconnectInterval: 3600},
	}})
}

func (f *fakeLark) serveWS() {
	f.wsConns = make(chan *wsConn, 1)
	f.wsServer = func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		f.wsConns <- &wsConn{Conn: c, appID: r.URL.Query().Get("app")}
	}
}

// push sends payload as one data frame of type typ and returns the
// client's reply frame payload.
func (c *wsConn) push(t *testing.T, id, typ string, payload []byte) larkws.Response {
	t.Helper()
	frame := larkws.Frame{SeqID: 1, LogID: 1, Service: 7, Method: int32(larkws.FrameTypeData), Payload: payload}
	hs := larkws.Headers{}
	hs.Add(larkws.HeaderType, typ)
	hs.Add(larkws.HeaderMessageID, id)
	hs.Add(larkws.HeaderSum, "1")
	hs.Add(larkws.HeaderSeq, "0")
	hs.Add(larkws.HeaderTraceID, "trace-"+id)
	frame.Headers = hs
	b, err := frame.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteMessage(websocket.BinaryMessage, b); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("reading the reply to %s: %v", id, err)
		}
		var f larkws.Frame
		if err := f.Unmarshal(msg); err != nil {
			t.Fatal(err)
		}
		h := larkws.Headers(f.Headers)
		if larkws.FrameType(f.Method) != larkws.FrameTypeData || h.GetString(larkws.HeaderMessageID) != id {
			continue // a ping
		}
		if h.GetString(larkws.HeaderBizRt) == "" {
			t.Errorf("reply to %s has no biz_rt", id)
		}
		var resp larkws.Response
		if err := json.Unmarshal(f.Payload, &resp); err != nil {
			t.Fatal(err)
		}
		return resp
	}
}

// The long connection mode, end to end: the real SDK ws client fetches
// the endpoint, dials the fake's WebSocket and receives protobuf frames;
// a message event is acknowledged and answered through the Open API, a
// card callback is answered in the reply frame.
func TestLongConnection(t *testing.T) {
	env := bottest.New(t)
	gate := make(chan struct{})
	env.Must(tallyCommand(env.Store, gate))
	fake := newFakeLark(t)
	fake.serveWS()
	cfg := testConfig(fake, "")
	cfg.Mode, cfg.VerificationToken = ModeWS, ""
	a, err := New(cfg, WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	a.wsAutoReconnect = false
	env.Bot.AddAdapter(a)

	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(ctx, env.Bot) }()
	conn := <-fake.wsConns
	defer conn.Close()
	if conn.appID != cfg.AppID {
		t.Fatalf("connected for app %q", conn.appID)
	}

	// A message event: acknowledged with 200 at once, answered later.
	resp := conn.push(t, "m1", "event", msgEvent(t, "ev_ws_1", "group", coordChat, wangming, "text", "@_user_1 tally",
		mention{"@_user_1", testBotID, "巡纪"}))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("event reply %+v", resp)
	}
	a.wait()
	calls := fake.Calls()
	if len(calls) != 1 || calls[0].Path != "/open-apis/im/v1/messages/om_ev_ws_1/reply" {
		t.Fatalf("calls %+v", calls)
	}

	// A card callback: the toast and card travel in the reply frame.
	resp = conn.push(t, "m2", "event", cardEvent(t, "ev_ws_card", lina, "tally.inc", tallyValue))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("card reply %+v", resp)
	}
	var answer struct {
		Toast struct{ Content string }
		Card  struct {
			Type string
			Data map[string]any
		}
	}
	if err := json.Unmarshal(resp.Data, &answer); err != nil {
		t.Fatalf("card answer %q: %v", resp.Data, err)
	}
	if answer.Toast.Content != "count 2" || answer.Card.Type != "raw" || answer.Card.Data["schema"] != "2.0" {
		t.Fatalf("card answer %s", resp.Data)
	}

	// The same event pushed again (a re-delivery) has no effect.
	conn.push(t, "m3", "event", cardEvent(t, "ev_ws_card", lina, "tally.inc", tallyValue))
	a.wait()
	n, _ := env.Store.NextSeq(context.Background(), "test.tally")
	if n != 3 {
		t.Fatalf("tally ran %d times, want 2", n-1)
	}

	cancel()
	if err := <-runErr; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestLongConnectionRefusedCredentials(t *testing.T) {
	fake := newFakeLark(t)
	cfg := testConfig(fake, "")
	cfg.Mode, cfg.AppSecret = ModeWS, "wrong"
	a, err := New(cfg, WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(context.Background(), bottest.New(t).Bot); err == nil || !strings.Contains(err.Error(), "bad credentials") {
		t.Fatalf("Run: %v", err)
	}
}

func TestLongConnectionModeMountsNoRoutes(t *testing.T) {
	fake := newFakeLark(t)
	cfg := testConfig(fake, "")
	cfg.Mode, cfg.VerificationToken = ModeWS, ""
	a, err := New(cfg, WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Mount(mux, bottest.New(t).Bot)
	if _, pattern := mux.Handler(httptest.NewRequest(http.MethodPost, "/lark/events", nil)); pattern != "" {
		t.Fatalf("mounted %q", pattern)
	}
}
