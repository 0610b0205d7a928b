package demomarket

import "html/template"

// templates holds the parsed page templates of one Market.
type templates struct {
	search, item, seller, home, removed, notFound *template.Template
}

const layoutTmpl = `{{define "top"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.PageTitle}} | Bazario</title>
<link rel="stylesheet" href="/static/site.css">
</head>
<body>
<header class="site-header">
<a class="logo" href="/">Bazario</a>
<form class="search" action="/search" method="get"><input type="search" name="q" value="{{.Query}}" placeholder="Search for anything"><input type="hidden" name="page" value="1"><button type="submit">Search</button></form>
<nav class="account"><a href="/account/login">Sign in</a> <a href="/account/orders">My orders</a> <a href="/cart/">Cart</a></nav>
</header>
<main>
{{end}}
{{define "bottom"}}</main>
<footer class="site-footer"><p>Bazario is a demonstration marketplace. Listings are fictional.</p><a href="/account/help">Help</a></footer>
</body>
</html>
{{end}}`

const searchTmpl = `{{template "top" .}}<section class="results">
<h2 class="results-heading">{{if .Items}}{{.Total}} results for &ldquo;{{.Query}}&rdquo;{{else}}No results{{end}}</h2>
{{if .Items}}<ul class="result-list">
{{range .Items}}<li class="result">
<a class="thumb" href="{{.Path}}"><img src="/img/{{.Thumb}}" alt="" width="160" height="160" loading="lazy"></a>
<div class="result-body"><a class="item-link" href="{{.Path}}">{{.Title}}</a>
<div class="result-price">{{.PriceText}}</div>
<div class="result-seller">{{.Seller}}</div></div>
</li>
{{end}}</ul>
<nav class="pagination">{{if .Prev}}<a class="prev" href="{{.Prev}}">Previous</a> {{end}}<span class="page-info">Page {{.Page}} of {{.Pages}}</span>{{if .Next}} <a class="next" href="{{.Next}}">Next</a>{{end}}</nav>
{{else}}<p class="empty">No results. Try fewer or different words.</p>
{{end}}</section>
{{template "bottom" .}}`

const itemTmpl = `{{template "top" .}}<nav class="breadcrumbs"><a href="/">Home</a> &rsaquo; <a href="/search?q={{.Crumb}}&amp;page=1">{{.Crumb}}</a></nav>
<article class="listing">
<div class="gallery-box">
{{range .Images}}{{if eq $.Lazy "data-src"}}<img class="gallery lazy" src="/img/placeholder.gif" data-src="{{.}}" alt="{{$.Item.Title}}" width="600">
{{else if eq $.Lazy "srcset"}}<img class="gallery" src="/img/placeholder.gif" srcset="{{.}} 1x, {{.}} 2x" alt="{{$.Item.Title}}" width="600">
{{else}}<img class="gallery" src="{{.}}" alt="{{$.Item.Title}}" width="600">
{{end}}{{end}}</div>
<div class="summary">
<h1 class="title">{{.Item.Title}}</h1>
<div class="price-box">{{if .PriceHidden}}<span class="offer-note">Add to cart to see the price</span>{{else}}<span class="price">{{.Item.PriceText}}</span>{{end}} <span class="shipping">{{.Shipping}}</span></div>
<div class="seller">Sold by <a href="/seller/{{.SellerSlug}}">{{.Item.Seller}}</a> <span class="feedback">{{.Feedback}} positive feedback</span></div>
<form class="buy" action="/cart/add" method="post"><input type="hidden" name="item" value="{{.Item.ID}}"><button type="submit">Add to cart</button></form>
<table class="specifics">
<tr><th>Brand</th><td>{{if .Item.Brand}}{{.Item.Brand}}{{else}}Does not apply{{end}}</td></tr>
<tr><th>Condition</th><td>{{.Condition}}</td></tr>
<tr><th>Item number</th><td>{{.Item.ID}}</td></tr>
</table>
</div>
<section class="description"><h2>Description</h2>
<div id="desc">{{range .Paras}}<p>{{.}}</p>
{{end}}</div>
</section>
<a class="report" href="/account/report?item={{.Item.ID}}">Report this item</a>
</article>
<script type="application/ld+json">{{.JSONLD}}</script>
{{template "bottom" .}}`

const sellerTmpl = `{{template "top" .}}<section class="seller-profile">
<h1 class="seller-name">{{.Name}}</h1>
<p>{{len .Items}} listings</p>
<ul class="result-list">
{{range .Items}}<li class="result"><a class="item-link" href="{{.Path}}">{{.Title}}</a> <span class="result-price">{{.PriceText}}</span></li>
{{end}}</ul>
</section>
{{template "bottom" .}}`

const homeTmpl = `{{template "top" .}}<section class="home">
<h1>Welcome to Bazario</h1>
<p>Outdoor gear, watches and everything else, from shops and people near you.</p>
<ul class="picks">
{{range .Items}}<li><a class="item-link" href="{{.Path}}">{{.Title}}</a> <span class="result-price">{{.PriceText}}</span></li>
{{end}}</ul>
</section>
{{template "bottom" .}}`

const removedTmpl = `{{template "top" .}}<section class="removed">
<h1 class="removed-notice">` + RemovedMarker + `</h1>
<p>The seller ended this listing or it was removed for violating our policies.</p>
<a href="/">Continue shopping</a>
</section>
{{template "bottom" .}}`

const notFoundTmpl = `{{template "top" .}}<section class="not-found">
<h1>Page not found</h1>
<p>We looked everywhere. <a href="/">Back to the home page</a></p>
</section>
{{template "bottom" .}}`

func parseTemplates() *templates {
	parse := func(name, body string) *template.Template {
		return template.Must(template.Must(template.New(name).Parse(layoutTmpl)).Parse(body))
	}
	return &templates{
		search:   parse("search", searchTmpl),
		item:     parse("item", itemTmpl),
		seller:   parse("seller", sellerTmpl),
		home:     parse("home", homeTmpl),
		removed:  parse("removed", removedTmpl),
		notFound: parse("notfound", notFoundTmpl),
	}
}
