// Package e2e runs gb's commands as a user does, chained in pipes, and
// checks the results with stock tools (GNU tar, zstd, jq).
package e2e

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/gbarchive/gb/internal/s3test"
	"github.com/gbarchive/gb/internal/sshtest"
	"github.com/gbarchive/gb/internal/testtree"
	"github.com/rogpeppe/go-internal/testscript"

	// The commands run as binaries built in TestMain; importing what they
	// are made of lets go test's cache notice when that changes.
	_ "github.com/gbarchive/gb/pkg/audit"
	_ "github.com/gbarchive/gb/pkg/cli"
	_ "github.com/gbarchive/gb/pkg/commit"
	_ "github.com/gbarchive/gb/pkg/find"
	_ "github.com/gbarchive/gb/pkg/pack"
	_ "github.com/gbarchive/gb/pkg/plan"
	_ "github.com/gbarchive/gb/pkg/prune"
	_ "github.com/gbarchive/gb/pkg/put"
	_ "github.com/gbarchive/gb/pkg/report"
	_ "github.com/gbarchive/gb/pkg/restore"
	_ "github.com/gbarchive/gb/pkg/scan"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gb-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file))
	// -tags gbfault compiles in the kill points that GB_FAULT names
	// (crash.txtar); binaries built without it ignore GB_FAULT.
	cmd := exec.Command("go", "build", "-tags", "gbfault", "-o", dir+"/", "./cmd/...")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build gb commands:", err)
		os.Exit(1)
	}
	os.Chmod(dir, 0o755)
	binDir = dir
	code := m.Run()
	s3test.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

// requireTools fails (in CI) or skips (elsewhere) when a stock tool the
// tests compare against is missing.
func requireTools(t *testing.T, tools ...string) {
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is required in CI: %v (scripts/test.sh installs it)", tool, err)
			}
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
}

func TestScripts(t *testing.T) {
	requireTools(t, "tar", "zstd", "jq", "flock", "bash", "age", "script", "sshfs", "fusermount", "ssh", "ssh-keygen")
	if _, err := sshtest.Sshd(); err != nil {
		requireTools(t, "sshd")
	}
	s3ep := s3test.Endpoint(t)
	faulty := s3test.NewFaulty(t, 1)
	otherRegion := s3test.NewOtherRegion(t, "eu-west-3")
	defer func() { t.Logf("faults injected by the proxy: %v", faulty) }()
	// Every script runs against the local store and against S3 (versitygw):
	// $DEST names the destination, and `fetchstore` mirrors the bucket into
	// ./store so the same checks read both.
	for _, mode := range []string{"file", "s3"} {
		t.Run(mode, func(t *testing.T) { runScripts(t, mode, s3ep, faulty.URL, otherRegion) })
	}
}

func runScripts(t *testing.T, mode, s3ep, faultyEP, otherRegionEP string) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file))
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", binDir+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv("GB_BIN", binDir)
			env.Setenv("GLACIER", filepath.Join(root, "scripts", "glacier.sh"))
			env.Setenv("HOME", env.WorkDir+"/home")
			env.Setenv("GB_NOW", "2026-01-15T02:00:00Z")
			// A real S3 server; buckets are per script.
			env.Setenv("S3_ENDPOINT", s3ep)
			env.Setenv("GB_S3_ENDPOINT", s3ep)
			env.Setenv("FAULTY_ENDPOINT", faultyEP)
			env.Setenv("OTHER_REGION_ENDPOINT", otherRegionEP)
			env.Setenv("AWS_ACCESS_KEY_ID", s3test.Access)
			env.Setenv("AWS_SECRET_ACCESS_KEY", s3test.Secret)
			env.Setenv("AWS_REGION", "us-east-1")
			env.Setenv("AWS_CONFIG_FILE", "/dev/null")
			env.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
			// Never ask an EC2 metadata service: tests talk to loopback only.
			env.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			env.Setenv("MODE", mode)
			env.Values["sshd"] = &sshdHolder{}
			// A script that fails after a kill -9 can leave an sshfs
			// mount behind (gb sweeps it on its next run, which a failed
			// script never makes): unmount whatever is under the work
			// directory when the script ends.
			work := env.WorkDir
			env.Defer(func() { unmountUnder(work) })
			if mode == "s3" {
				bucket := fmt.Sprintf("gb-e2e-%x", sha256.Sum256([]byte(env.WorkDir)))[:30]
				if _, err := s3client(s3ep).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
					return err
				}
				env.Setenv("BUCKET", bucket)
				env.Setenv("DEST", "s3://"+bucket+"/archive")
				setupCold(t, env)
			} else {
				env.Setenv("DEST", "file://"+env.WorkDir+"/store")
			}
			// Let an unprivileged user (see warnings.txtar) reach the
			// work directory and the binaries.
			os.Chmod(env.WorkDir, 0o755)
			os.Chmod(filepath.Dir(env.WorkDir), 0o755)
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "root":
				return os.Geteuid() == 0, nil
			case "s3":
				return mode == "s3", nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"mktree":     cmdMktree,
			"cmptree":    cmdCmptree,
			"touchat":    cmdTouchAt,
			"s3":         cmdS3,
			"fetchstore": cmdFetchStore,
			"advance":    cmdAdvance,
			"sshd":       cmdSshd,
			"s3proxy":    cmdS3Proxy,
		},
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") != "",
	})
}

func s3client(endpoint string) *s3.Client {
	cfg, _ := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion("us-east-1"),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(s3test.Access, s3test.Secret, "")))
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
		o.DisableLogOutputChecksumValidationSkipped = true
	})
}

// fetchstore: in S3 mode, mirror s3://$BUCKET/archive/ into ./store (as
// a person would with aws s3 sync), so scripts check both stores alike.
func cmdFetchStore(ts *testscript.TestScript, neg bool, args []string) {
	if ts.Getenv("MODE") != "s3" {
		return
	}
	dir := ts.MkAbs("store")
	ts.Check(os.RemoveAll(dir))
	c := s3client(ts.Getenv("S3_ENDPOINT"))
	ctx := context.Background()
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(ts.Getenv("BUCKET")), Prefix: aws.String("archive/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		ts.Check(err)
		for _, o := range page.Contents {
			g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(ts.Getenv("BUCKET")), Key: o.Key})
			ts.Check(err)
			dst := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(aws.ToString(o.Key), "archive/")))
			ts.Check(os.MkdirAll(filepath.Dir(dst), 0o755))
			f, err := os.Create(dst)
			ts.Check(err)
			_, err = io.Copy(f, g.Body)
			g.Body.Close()
			ts.Check(err)
			ts.Check(f.Close())
		}
	}
}

// s3proxy QUIRK...: put a proxy with the named quirks (internal/s3test,
// quirks*.go) in front of $GB_S3_ENDPOINT and point GB_S3_ENDPOINT at it,
// so the script's gb talks to an S3-compatible server that behaves so.
// $S3_ENDPOINT, the tests' own view of the server, is left alone.
func cmdS3Proxy(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: s3proxy QUIRK... (known: %s)", strings.Join(s3test.QuirkNames(), ", "))
	}
	q, err := s3test.NewQuirky(ts.Getenv("GB_S3_ENDPOINT"), args...)
	ts.Check(err)
	ts.Defer(q.Close)
	ts.Setenv("GB_S3_ENDPOINT", q.URL)
}

// mktree DIR [BIGBYTES]: the standard awkward fixture.
func cmdMktree(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: mktree DIR [BIGBYTES]")
	}
	big := int64(3 << 20)
	if len(args) > 1 {
		n, err := strconv.ParseInt(args[1], 10, 64)
		ts.Check(err)
		big = n
	}
	ts.Check(testtree.Make(ts.MkAbs(args[0]), big))
}

// cmptree [-nohardlinks] ORIG RESTORED: trees equal in content, modes,
// mtimes, links (and hard-link groups unless -nohardlinks).
func cmdCmptree(ts *testscript.TestScript, neg bool, args []string) {
	var o testtree.CompareOptions
	if len(args) > 0 && args[0] == "-nohardlinks" {
		o.IgnoreHardLinks, args = true, args[1:]
	}
	if len(args) != 2 {
		ts.Fatalf("usage: cmptree [-nohardlinks] ORIG RESTORED")
	}
	diffs, err := testtree.CompareWith(ts.MkAbs(args[0]), ts.MkAbs(args[1]), o)
	ts.Check(err)
	if neg {
		if len(diffs) == 0 {
			ts.Fatalf("trees are equal")
		}
		return
	}
	if len(diffs) > 0 {
		ts.Fatalf("trees differ:\n%s", strings.Join(diffs, "\n"))
	}
}

// touchat TIME FILE...: set mtimes (RFC 3339).
func cmdTouchAt(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: touchat TIME FILE...")
	}
	out, err := exec.Command("touch", append([]string{"-h", "-d", args[0]}, mkAbs(ts, args[1:])...)...).CombinedOutput()
	if err != nil {
		ts.Fatalf("touch: %v %s", err, out)
	}
}

func mkAbs(ts *testscript.TestScript, ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = ts.MkAbs(p)
	}
	return out
}

// s3 mkbucket NAME | s3 get BUCKET KEY FILE | s3 ls BUCKET PREFIX:
// what a person would do with the aws CLI, against the test server.
func cmdS3(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: s3 mkbucket NAME | s3 get BUCKET KEY FILE | s3 getall BUCKET PREFIX DIR | s3 ls BUCKET PREFIX | s3 rm BUCKET KEY | s3 put BUCKET KEY FILE | s3 mkupload BUCKET KEY | s3 uploads BUCKET")
	}
	ctx := context.Background()
	c := s3client(ts.Getenv("S3_ENDPOINT"))
	var err error
	switch args[0] {
	case "mkbucket":
		_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(args[1])})
	case "get":
		var out *s3.GetObjectOutput
		out, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(args[1]), Key: aws.String(args[2])})
		if err == nil {
			var b []byte
			b, err = io.ReadAll(out.Body)
			out.Body.Close()
			if err == nil {
				err = os.WriteFile(ts.MkAbs(args[3]), b, 0o644)
			}
		}
	case "getall": // s3 getall BUCKET PREFIX DIR: every object, by base name
		var out *s3.ListObjectsV2Output
		out, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(args[1]), Prefix: aws.String(args[2])})
		for _, o := range out.Contents {
			if err != nil {
				break
			}
			var g *s3.GetObjectOutput
			if g, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(args[1]), Key: o.Key}); err != nil {
				break
			}
			var b []byte
			b, err = io.ReadAll(g.Body)
			g.Body.Close()
			if err == nil {
				err = os.WriteFile(filepath.Join(ts.MkAbs(args[3]), filepath.Base(aws.ToString(o.Key))), b, 0o644)
			}
		}
	// In rm, put and mkupload, a KEY of @FILE is read from FILE (keys
	// hold the work directory, which a script cannot spell).
	case "rm": // s3 rm BUCKET KEY
		_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(args[1]), Key: aws.String(keyArg(ts, args[2]))})
	case "put": // s3 put BUCKET KEY FILE: replace an object, as a stray aws s3 cp would
		var b []byte
		if b, err = os.ReadFile(ts.MkAbs(args[3])); err == nil {
			_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(args[1]), Key: aws.String(keyArg(ts, args[2])), Body: strings.NewReader(string(b))})
		}
	case "mkupload": // s3 mkupload BUCKET KEY: a multipart upload left open with one part
		key := aws.String(keyArg(ts, args[2]))
		var up *s3.CreateMultipartUploadOutput
		if up, err = c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(args[1]), Key: key}); err == nil {
			_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(args[1]), Key: key, UploadId: up.UploadId,
				PartNumber: aws.Int32(1), Body: strings.NewReader(strings.Repeat("x", 1000))})
		}
	case "uploads": // s3 uploads BUCKET: open multipart uploads
		var out *s3.ListMultipartUploadsOutput
		out, err = c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(args[1])})
		if err == nil {
			fmt.Fprintf(ts.Stdout(), "uploads in s3://%s: %d\n", args[1], len(out.Uploads))
		}
	case "ls":
		var out *s3.ListObjectsV2Output
		out, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(args[1]), Prefix: aws.String(args[2])})
		if err == nil {
			fmt.Fprintf(ts.Stdout(), "listing s3://%s/%s\n", args[1], args[2])
			for _, o := range out.Contents {
				fmt.Fprintf(ts.Stdout(), "%s %d\n", aws.ToString(o.Key), aws.ToInt64(o.Size))
			}
		}
	default:
		ts.Fatalf("s3: unknown verb %q", args[0])
	}
	if (err != nil) != neg {
		ts.Fatalf("s3 %s: %v", args[0], err)
	}
}

// keyArg is an S3 key given as is, or as @FILE holding it.
func keyArg(ts *testscript.TestScript, arg string) string {
	if f, ok := strings.CutPrefix(arg, "@"); ok {
		return strings.TrimSpace(ts.ReadFile(f))
	}
	return arg
}

// sshd start|stop: a real OpenSSH server on 127.0.0.1 for this script
// (internal/sshtest). start sets SSH_CONFIG (aliases gbhost, gbbadkey
// and gbdead) and GB_SSH_COMMAND so gb reaches it as a user's
// ~/.ssh/config would; stop makes the host unreachable.
func cmdSshd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: sshd start|stop")
	}
	v, _ := ts.Value("sshd").(*sshdHolder)
	if v == nil {
		ts.Fatalf("sshd: no holder (Setup)")
	}
	switch args[0] {
	case "start":
		if v.s != nil {
			v.s.Stop()
		}
		s, err := sshtest.Start(ts.MkAbs(".sshd"))
		ts.Check(err)
		v.s = s
		ts.Defer(s.Stop)
		ts.Setenv("SSH_CONFIG", s.Config)
		ts.Setenv("GB_SSH_COMMAND", "ssh -F "+s.Config)
	case "stop":
		if v.s != nil {
			v.s.Stop()
		}
	default:
		ts.Fatalf("usage: sshd start|stop")
	}
}

type sshdHolder struct{ s *sshtest.Server }

// unmountUnder lazily unmounts every mount below dir.
func unmountUnder(dir string) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			exec.Command("fusermount", "-u", "-z", f[4]).Run()
		}
	}
}
