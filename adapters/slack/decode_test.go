package slack

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/xunji-bot/xunji/adapters/slack/slacktest"
)

// decodeEventStd is decodeEvent with the standard library's decoder, one
// pass then the outer body alone: what decodeEvent must agree with.
func decodeEventStd(body []byte) (outerEvent, *innerEvent, error) {
	var d decodedEvent
	if err := json.Unmarshal(body, &d); err == nil {
		return outerEvent{Type: d.Type, Challenge: d.Challenge, EventID: d.EventID, TeamID: d.TeamID}, &d.Event, nil
	}
	var outer outerEvent
	err := json.Unmarshal(body, &outer)
	return outer, nil, err
}

// sameDecoding fails t when decodeEvent reads body otherwise than the
// standard library does: the same outer fields and inner event, or the
// same verdict that the body is malformed.
func sameDecoding(t *testing.T, body []byte) {
	t.Helper()
	stdOuter, stdInner, stdErr := decodeEventStd(body)
	outer, inner, err := decodeEvent(body)
	if (err != nil) != (stdErr != nil) {
		t.Fatalf("%q: error %v, the standard library's %v", body, err, stdErr)
	}
	if err != nil {
		return
	}
	if stdInner == nil {
		// Only the outer body decoded: the inner event is read from
		// outer.Event, which must hold the same bytes.
		if inner != nil {
			// The one pass succeeded where the standard library's did
			// not: the inner event must then be what the standard
			// library reads from the raw event.
			var e innerEvent
			if json.Unmarshal(stdOuter.Event, &e) == nil && !reflect.DeepEqual(*inner, e) {
				t.Fatalf("%q: inner %+v, the standard library's %+v", body, *inner, e)
			}
			stdOuter.Event = nil
		}
	} else if inner == nil || !reflect.DeepEqual(*inner, *stdInner) {
		t.Fatalf("%q: inner %+v, the standard library's %+v", body, inner, stdInner)
	}
	if !reflect.DeepEqual(outer, stdOuter) {
		t.Fatalf("%q: outer %+v, the standard library's %+v", body, outer, stdOuter)
	}
}

// decodeSeeds are Events API bodies: Slack's own examples (testdata) and
// the shapes the bot handles or ignores.
func decodeSeeds(t testing.TB) [][]byte {
	seeds := [][]byte{
		slacktest.AppMention("Ev1", "U0LINA", coordChat, "<@U0XUNJIBOT> 线索 列表 \"带 引号\" \\u4e2d"),
		[]byte(`{"type":"event_callback","team_id":"T1","event_id":"Ev2","event":{"type":"message","channel_type":"im","user":"U1","text":"hi","channel":"D1","subtype":"file_share","files":[{"id":"F1","name":"a.xlsx","url_private_download":"https://files.slack.com/x"}]}}`),
		[]byte(`{"type":"event_callback","event_id":"Ev3","event":{"type":"message","subtype":"message_changed","message":{"files":[{"id":"F2"}]},"edited":{"user":"U1","ts":"1.2"}}}`),
		[]byte(`{"type":"event_callback","event_id":"Ev4","event":{"type":"reaction_added","user":"U1","item":{"type":"message"},"files":"not a list"}}`),
		[]byte(`{"type":"url_verification","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}`),
		[]byte(`{"TYPE":"event_callback","Event_ID":"Ev5","event":{"Type":"app_mention","USER":"U2"}}`),
		[]byte(`{"type":"event_callback","event_id":"Ev6","event":{"type":"app_mention","text":"\xff\xfe invalid utf-8","user":"U3"}}`),
		[]byte(`{"type":"event_callback","event_id":"Ev7","event_id":"Ev7b","event":{"type":"app_mention","user":"U4","user":"U5"}}`),
		[]byte(`{"type":"event_callback","event_id":"Ev8","event":null}`),
		[]byte(`{"type":"event_callback","event_id":"Ev9","event":{"type":"app_mention","thread_ts":1.5}}`),
		[]byte(`[1,2]`), []byte(`{`), []byte(``), []byte(`null`), []byte(`{"type":"event_callback"} trailing`),
	}
	for _, name := range []string{"events_app_mention_signed.body", "events_url_verification.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

// decodeEvent reads every body as the standard library's decoder does:
// the same fields, the same events ignored, the same bodies refused.
func TestDecodeEventAgreesWithTheStandardLibrary(t *testing.T) {
	for _, b := range decodeSeeds(t) {
		sameDecoding(t, b)
	}
}

func FuzzDecodeEvent(f *testing.F) {
	for _, b := range decodeSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(sameDecoding)
}
