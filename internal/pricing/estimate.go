package pricing

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Kind says how a line's cost is known.
type Kind int

const (
	// Priced: the monthly cost follows from the config and the table.
	Priced Kind = iota
	// Usage: the cost follows from traffic or data stored, which no config
	// tells; the line gives the price per unit and counts nothing.
	Usage
	// Unknown: the table has no price for what the config creates; the
	// line counts nothing and the total says it is incomplete.
	Unknown
)

// Line is one line of the estimate.
type Line struct {
	// Item names what is billed: "nodes", "EKS control plane", ...
	Item string
	// Kind: Priced, Usage or Unknown.
	Kind Kind
	// USD per month (Priced lines), rounded to the cent.
	USD float64
	// Detail is the arithmetic (Priced), the unit price (Usage) or what
	// has no price (Unknown).
	Detail string
	// Source of the price.
	Source string
}

// Estimate is a stack's monthly cost by line, at the table's list prices.
type Estimate struct {
	// Stack and Region the estimate is for.
	Stack  string
	Region string
	// Date the prices were read (the table's Date).
	Date  string
	Lines []Line
	// Notes: what the estimate leaves out and why.
	Notes []string
}

// New starts an estimate for a stack in a region.
func New(stack, region string) *Estimate {
	return &Estimate{Stack: stack, Region: region, Date: Date}
}

// Cents rounds a dollar amount to the cent.
func Cents(usd float64) float64 { return math.Round(usd*100) / 100 }

// Add appends a priced line; the amount is rounded to the cent.
func (e *Estimate) Add(item string, usd float64, source, format string, args ...any) {
	e.Lines = append(e.Lines, Line{Item: item, Kind: Priced, USD: Cents(usd), Detail: fmt.Sprintf(format, args...), Source: source})
}

// AddUsage appends a line billed by usage only.
func (e *Estimate) AddUsage(item, source, format string, args ...any) {
	e.Lines = append(e.Lines, Line{Item: item, Kind: Usage, Detail: fmt.Sprintf(format, args...), Source: source})
}

// AddUnknown appends a line the table has no price for.
func (e *Estimate) AddUnknown(item, format string, args ...any) {
	e.Lines = append(e.Lines, Line{Item: item, Kind: Unknown, Detail: fmt.Sprintf(format, args...), Source: SourceUnknown})
}

// Note appends a note.
func (e *Estimate) Note(format string, args ...any) {
	e.Notes = append(e.Notes, fmt.Sprintf(format, args...))
}

// Line returns the first line named item.
func (e Estimate) Line(item string) (Line, bool) {
	for _, l := range e.Lines {
		if l.Item == item {
			return l, true
		}
	}
	return Line{}, false
}

// Total is the sum of the priced lines, per month.
func (e Estimate) Total() float64 {
	var t float64
	for _, l := range e.Lines {
		if l.Kind == Priced {
			t += l.USD
		}
	}
	return Cents(t)
}

// Unknown lists the items whose price the table does not have: the total
// leaves them out.
func (e Estimate) Unknown() []string {
	var out []string
	for _, l := range e.Lines {
		if l.Kind == Unknown {
			out = append(out, l.Item)
		}
	}
	return out
}

// OtherRegion reports whether the stack's region is not the table's: the
// estimate then gives us-east-1's prices, and says so.
func (e Estimate) OtherRegion() bool { return e.Region != Region }

// Money renders an amount as "$1,234.56".
func Money(usd float64) string {
	s := fmt.Sprintf("%.2f", math.Abs(usd))
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	sign := ""
	if usd < 0 {
		sign = "-"
	}
	return sign + "$" + b.String() + "." + frac
}

// Rate renders a unit price with every digit the table holds and at
// least cents: "$0.0225/h", "$0.10/h".
func Rate(p Price, per string) string {
	s := strconv.FormatFloat(p.USD, 'f', -1, 64)
	if i := strings.IndexByte(s, '.'); i < 0 {
		s += ".00"
	} else if len(s)-i == 2 {
		s += "0"
	}
	return "$" + s + "/" + per
}

// TotalString is the total as the table's last line says it:
// "$3,946.30 per month", with "+ unknown (...)" when a price is missing.
func (e Estimate) TotalString() string {
	s := Money(e.Total())
	if u := e.Unknown(); len(u) > 0 {
		s += " + unknown (" + strings.Join(u, ", ") + ")"
	}
	return s + " per month"
}

// String renders the estimate as a table: one line per item with its
// monthly amount ("usage" or "unknown" where it has none), the total, the
// notes, and the sources.
func (e Estimate) String() string {
	var b strings.Builder
	where := e.Region
	if where == "" {
		where = "no region set"
	}
	fmt.Fprintf(&b, "cost estimate of stack %s, %s list prices read %s, %d h a month", e.Stack, Region, e.Date, HoursPerMonth)
	if e.OtherRegion() {
		fmt.Fprintf(&b, " (the stack is in %s: prices are us-east-1's, so this estimate is us-east-1's, not %s's)", where, where)
	}
	b.WriteString(":\n")
	width := len("total")
	for _, l := range e.Lines {
		width = max(width, len(l.Item))
	}
	amount := func(l Line) string {
		switch l.Kind {
		case Usage:
			return "usage"
		case Unknown:
			return "unknown"
		}
		return Money(l.USD)
	}
	aw := len(Money(e.Total()))
	for _, l := range e.Lines {
		aw = max(aw, len(amount(l)))
	}
	for _, l := range e.Lines {
		fmt.Fprintf(&b, "  %-*s %*s  %s\n", width, l.Item, aw, amount(l), l.Detail)
	}
	fmt.Fprintf(&b, "  %-*s %*s  %s", width, "total", aw, Money(e.Total()), "per month")
	if u := e.Unknown(); len(u) > 0 {
		fmt.Fprintf(&b, ", + unknown (%s: not in the price table, not counted)", strings.Join(u, ", "))
	}
	if e.OtherRegion() {
		b.WriteString(", at us-east-1's prices")
	}
	b.WriteString("; usage lines are not counted\n")
	for _, n := range e.Notes {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	seen := map[string]bool{}
	var sources []string
	for _, l := range e.Lines {
		if l.Source != "" && l.Source != SourceUnknown && !seen[l.Source] {
			seen[l.Source] = true
			sources = append(sources, l.Source)
		}
	}
	if len(sources) > 0 {
		b.WriteString("  sources: " + strings.Join(sources, "; ") + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
