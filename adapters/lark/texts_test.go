package lark

import (
	"testing"

	"github.com/xunji-bot/xunji/bot/i18n"
)

// The adapter's own texts load, and each is in both languages.
func TestTextsInBothLanguages(t *testing.T) {
	c := texts()
	zh, en := c.Keys(i18n.ZH), c.Keys(i18n.EN)
	if len(zh) == 0 || len(zh) != len(en) {
		t.Fatalf("zh-CN keys %v, en keys %v", zh, en)
	}
	for _, k := range zh {
		if !c.Has(i18n.EN, k) {
			t.Errorf("key %q is in zh-CN but not in en", k)
		}
	}
}
