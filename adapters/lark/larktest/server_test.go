package larktest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

func send(t *testing.T, s *Server, client *http.Client, uuid string) (*http.Response, error) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"receive_id": "oc_1", "msg_type": "text", "content": `{"text":"hi"}`, "uuid": uuid})
	r, _ := http.NewRequest(http.MethodPost, s.URL+"/open-apis/im/v1/messages?receive_id_type=chat_id", bytes.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+TenantToken)
	r.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(r)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

// FailAll answers every message call with the failure, after the queued
// ones, until it is ended.
func TestFailAllIsAnOutage(t *testing.T) {
	s := NewServer(t)
	s.FailNext(Failure{Status: 500, Code: 1})
	s.FailAll(&Failure{Status: 429, Code: 99991400, RetryAfter: 40 * time.Second})
	resp, err := send(t, s, http.DefaultClient, "u1")
	if err != nil || resp.StatusCode != 500 {
		t.Fatalf("first call: %v %v, want the queued 500", resp, err)
	}
	for i := 0; i < 3; i++ {
		resp, err := send(t, s, http.DefaultClient, "u1")
		if err != nil || resp.StatusCode != 429 || resp.Header.Get("X-Ogw-Ratelimit-Reset") != "40" {
			t.Fatalf("call during the outage: %v %v", resp, err)
		}
	}
	s.FailAll(nil)
	if resp, err := send(t, s, http.DefaultClient, "u1"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("after the outage: %v %v", resp, err)
	}
	if len(s.Calls()) != 5 || len(s.Messages("oc_1")) != 1 {
		t.Errorf("calls %d shown %d, want 5 and 1", len(s.Calls()), len(s.Messages("oc_1")))
	}
}

// SetLatency delays the answer, and the send still happens when the
// client gave up waiting; its uuid then keeps a second send from showing.
func TestLatencyStillSendsWhenTheClientGivesUp(t *testing.T) {
	s := NewServer(t)
	s.SetLatency(300 * time.Millisecond)
	if _, err := send(t, s, &http.Client{Timeout: 50 * time.Millisecond}, "u2"); err == nil {
		t.Fatal("the call answered before the latency")
	}
	s.AwaitFunc("the send", func() bool { return len(s.Messages("oc_1")) == 1 })
	if resp, err := send(t, s, http.DefaultClient, "u2"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("resend: %v %v", resp, err)
	}
	if n := len(s.Messages("oc_1")); n != 1 {
		t.Errorf("shown %d times, want 1", n)
	}
}
