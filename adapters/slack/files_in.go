package slack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	slackgo "github.com/slack-go/slack"

	"github.com/xunji-bot/xunji/bot"
)

// Inbound files.
//
// A file sent with a command — a direct message with a file (message.im,
// subtype file_share) or a channel message with a file that mentions the
// bot (app_mention with files) — is downloaded in the background work,
// after Slack got its acknowledgement and right before the command runs,
// from the url_private_download (or url_private) Slack gave, with the bot
// token; this needs the files:read scope. The bytes go on
// bot.Request.Files.
//
// With the durable inbox, the request is stored before the
// acknowledgement, so it is stored without the bytes (a download may take
// longer than Slack's 3 seconds). A request recovered from the inbox
// after a crash therefore reaches the command without its files, and the
// command answers that no file came with it; the person sends it again.
//
// A file the adapter does not take — larger than bot.MaxRequestFileSize,
// or whose download failed — is still listed on the request, with its
// name and type but no Data, so that the command can say which file it
// did not get. The adapter itself writes no text.

// fileRef is a file attached to a message, as the event names it.
type fileRef struct {
	id, name, mime, url string
	size                int64
}

// fileRefs returns the downloadable references of a message's files.
func fileRefs(files []slackgo.File) []fileRef {
	var refs []fileRef
	for _, f := range files {
		u := f.URLPrivateDownload
		if u == "" {
			u = f.URLPrivate
		}
		name := f.Name
		if name == "" {
			name = f.Title
		}
		refs = append(refs, fileRef{id: f.ID, name: name, mime: f.Mimetype, url: u, size: int64(f.Size)})
	}
	return refs
}

// errFileTooLarge is a file over bot.MaxRequestFileSize.
var errFileTooLarge = errors.New("file larger than bot.MaxRequestFileSize")

// fetchFiles downloads refs onto req.Files. A file that cannot be taken
// is listed without Data (see above) and logged.
func (a *Adapter) fetchFiles(ctx context.Context, req *bot.Request, refs []fileRef) {
	for _, ref := range refs {
		f := bot.File{Name: ref.name, MIME: ref.mime}
		data, err := a.download(ctx, ref)
		switch {
		case errors.Is(err, errFileTooLarge):
			bot.Log(ctx, a.eventLog(req.EventID, req.UserID)).Info("slack file not taken: too large", "file", ref.id, "size", ref.size)
		case err != nil:
			bot.Log(ctx, a.eventLog(req.EventID, req.UserID)).Error("slack file not downloaded", "file", ref.id, "err", err)
		default:
			f.Data = data
		}
		req.Files = append(req.Files, f)
	}
}

// download fetches one file with the bot token, at most
// bot.MaxRequestFileSize bytes.
func (a *Adapter) download(ctx context.Context, ref fileRef) ([]byte, error) {
	if ref.size > bot.MaxRequestFileSize {
		return nil, errFileTooLarge
	}
	if ref.url == "" {
		return nil, errors.New("the event gave no download URL")
	}
	if !a.trustedFileURL(ref.url) {
		// Never send the bot token anywhere but to Slack.
		return nil, fmt.Errorf("download URL %q is not Slack's", ref.url)
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, ref.url, nil)
	if err != nil {
		return nil, err
	}
	r.Header.Set("Authorization", "Bearer "+a.cfg.BotToken)
	resp, err := a.httpClient.Do(r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download answered %s", resp.Status)
	}
	if resp.ContentLength > bot.MaxRequestFileSize {
		return nil, errFileTooLarge
	}
	// Without files:read Slack answers its sign-in page, not the file.
	if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/html") && !strings.HasPrefix(ref.mime, "text/html") {
		return nil, errors.New("download answered an HTML page: is the files:read scope granted?")
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, bot.MaxRequestFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > bot.MaxRequestFileSize {
		return nil, errFileTooLarge
	}
	return data, nil
}

// trustedFileURL reports whether the bot token may be sent to u: an
// https URL on slack.com, or on the host of the configured API URL (a
// test server or a proxy).
func (a *Adapter) trustedFileURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return false
	}
	host := strings.ToLower(p.Hostname())
	if p.Scheme == "https" && (host == "slack.com" || strings.HasSuffix(host, ".slack.com")) {
		return true
	}
	if a.cfg.APIURL == "" {
		return false
	}
	api, err := url.Parse(a.cfg.APIURL)
	return err == nil && api.Scheme == p.Scheme && api.Host == p.Host
}
