package slacktest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func post(t *testing.T, s *Server, method string) *http.Response {
	t.Helper()
	form := url.Values{"channel": {"C1"}, "text": {"hi"}}
	resp, err := http.Post(s.APIURL()+method, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// FailAll answers every call with the status, after the queued ones,
// until it is ended; failed calls are attempts, not calls.
func TestFailAllIsAnOutage(t *testing.T) {
	s := NewServer(t)
	s.SetRetryAfter(40 * time.Second)
	s.FailNext("chat.postMessage", http.StatusInternalServerError)
	s.FailAll(http.StatusTooManyRequests)
	if got := post(t, s, "chat.postMessage").StatusCode; got != http.StatusInternalServerError {
		t.Fatalf("first call: %d, want the queued 500", got)
	}
	for i := 0; i < 3; i++ {
		resp := post(t, s, "chat.postMessage")
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "40" {
			t.Fatalf("call during the outage: %d Retry-After %q, want 429 40", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	s.FailAll(0)
	if got := post(t, s, "chat.postMessage").StatusCode; got != http.StatusOK {
		t.Fatalf("after the outage: %d", got)
	}
	if a, c := s.Attempts("chat.postMessage"), len(s.CallsOf("chat.postMessage")); a != 5 || c != 1 {
		t.Errorf("attempts %d calls %d, want 5 and 1", a, c)
	}
}

// SetLatency delays the answer, and the call still takes effect when the
// client gave up waiting.
func TestLatencyStillPostsWhenTheClientGivesUp(t *testing.T) {
	s := NewServer(t)
	s.SetLatency(300 * time.Millisecond)
	client := &http.Client{Timeout: 50 * time.Millisecond}
	form := url.Values{"channel": {"C1"}, "text": {"hi"}}
	if _, err := client.Post(s.APIURL()+"chat.postMessage", "application/x-www-form-urlencoded", strings.NewReader(form.Encode())); err == nil {
		t.Fatal("the call answered before the latency")
	}
	s.AwaitFunc("the post", func() bool { return len(s.Posts("C1")) == 1 })
}
