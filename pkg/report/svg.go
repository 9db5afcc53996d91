package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"strconv"

	"github.com/gbarchive/gb/pkg/cost"
)

// Chart geometry.
const (
	svgW, svgH                   = 760, 380
	padL, padR, padTop, padBotom = 84, 84, 56, 64
)

// SVG draws stored bytes (bars, left axis) and the monthly storage bill
// (line, right axis) after each run, as a self-contained SVG file.
func SVG(r *Report) []byte {
	var runs []RunRecord
	for _, x := range r.Runs {
		if !x.DryRun {
			runs = append(runs, x)
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", svgW, svgH, svgW, svgH)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/>`+"\n", svgW, svgH)
	text(&b, svgW/2, 22, "middle", `font-size="15" font-weight="bold"`, "gb: stored bytes and monthly storage cost after each run")
	text(&b, svgW/2, 40, "middle", `fill="#555"`, "report of "+r.Summary.At.Format("2006-01-02")+"; "+r.Summary.Inventory)
	x0, x1, y0, y1 := padL, svgW-padR, svgH-padBotom, padTop
	if len(runs) == 0 {
		text(&b, svgW/2, svgH/2, "middle", `fill="#555"`, "no runs yet")
		b.WriteString("</svg>\n")
		return b.Bytes()
	}
	var maxBytes, maxUSD float64
	for _, x := range runs {
		maxBytes = math.Max(maxBytes, float64(x.StoredBytes))
		maxUSD = math.Max(maxUSD, x.monthly)
	}
	byteStep, byteTop := axis(maxBytes)
	usdStep, usdTop := axis(maxUSD)
	h := float64(y0 - y1)
	yb := func(v float64) float64 { return float64(y0) - v/byteTop*h }
	yu := func(v float64) float64 { return float64(y0) - v/usdTop*h }

	// Grid and axes.
	for v := 0.0; v <= byteTop*1.0000001; v += byteStep {
		y := yb(v)
		fmt.Fprintf(&b, `<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="#e4e4e4"/>`+"\n", x0, num(y), x1, num(y))
		text(&b, float64(x0-6), y+4, "end", `fill="#2b6cb0"`, cost.Bytes(int64(math.Round(v))))
	}
	for v := 0.0; v <= usdTop*1.0000001; v += usdStep {
		text(&b, float64(x1+6), yu(v)+4, "start", `fill="#c05621"`, money(v, usdStep))
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n", x0, y0, x1, y0)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#2b6cb0"/>`+"\n", x0, y1, x0, y0)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#c05621"/>`+"\n", x1, y1, x1, y0)

	// Bars, labels, the cost line.
	band := float64(x1-x0) / float64(len(runs))
	barW := math.Min(band*0.6, 60)
	every := (len(runs) + 11) / 12 // at most 12 date labels
	var pts []string
	for i, x := range runs {
		cx := float64(x0) + band*(float64(i)+0.5)
		top := yb(float64(x.StoredBytes))
		op := "1"
		if x.Estimated {
			op = "0.45"
		}
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="#4299e1" fill-opacity="%s"><title>%s</title></rect>`+"\n",
			num(cx-barW/2), num(top), num(barW), num(float64(y0)-top), op, esc(fmt.Sprintf("run %d, %s: %s stored in %s", x.Run, day(x.At), cost.Bytes(x.StoredBytes), plural(x.StoredBags, "bag"))))
		if i%every == 0 {
			text(&b, cx, float64(y0)+18, "middle", "", day(x.At))
		}
		pts = append(pts, num(cx)+","+num(yu(x.monthly)))
	}
	fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#dd6b20" stroke-width="2"/>`+"\n", join(pts))
	for i, x := range runs {
		cx := float64(x0) + band*(float64(i)+0.5)
		fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="4" fill="#dd6b20"><title>%s</title></circle>`+"\n", num(cx), num(yu(x.monthly)),
			esc(fmt.Sprintf("run %d, %s: %s a month", x.Run, day(x.At), cost.USD(x.monthly))))
	}

	// Legend.
	ly := svgH - 18
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="#4299e1"/>`+"\n", x0, ly-10)
	text(&b, float64(x0+18), float64(ly), "start", "", "stored bytes (left; pale: estimated)")
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#dd6b20" stroke-width="2"/>`+"\n", x0+260, ly-4, x0+284, ly-4)
	text(&b, float64(x0+290), float64(ly), "start", "", "monthly storage cost, 40 KB per bag included (right)")
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// axis picks a tick step of 1, 2 or 5 × 10^k giving at most 5 ticks
// above 0, and the top of the axis.
func axis(max float64) (step, top float64) {
	if max <= 0 {
		return 1, 1
	}
	raw := max / 5
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if step = m * p; step >= raw {
			break
		}
	}
	return step, math.Ceil(max/step-1e-9) * step
}

func money(v, step float64) string {
	d := 0
	if step < 1 {
		d = max(2, int(math.Ceil(-math.Log10(step)-1e-9)))
	}
	return "$" + strconv.FormatFloat(v, 'f', d, 64)
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

func join(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(x)
	}
	return b.String()
}

func text(b *bytes.Buffer, x, y float64, anchor, attrs, s string) {
	fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="%s"`, num(x), num(y), anchor)
	if attrs != "" {
		b.WriteString(" " + attrs)
	}
	b.WriteString(">")
	b.WriteString(esc(s))
	b.WriteString("</text>\n")
}

// esc escapes s for XML text.
func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
