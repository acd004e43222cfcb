/* glob.c: wildcard matching with the classic single-backtrack algorithm (the last `*` is the only
 * one worth retrying), so a pattern like `a*a*a*b` cannot go exponential. */
#include "glob.h"

#include <string.h>

bool glob_is_pattern(const char *pattern, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (pattern[i] == '*' || pattern[i] == '?' || pattern[i] == '[')
			return true;
	return false;
}

/* Matches c against the set starting at pattern[*i] (just after '['); advances *i past the ']'.
 * A '[' without its ']' stands for itself. */
static bool match_set(const char *p, size_t plen, size_t *i, char c, bool *valid)
{
	size_t k = *i;
	bool negate = k < plen && (p[k] == '!' || p[k] == '^');
	if (negate)
		k++;
	bool matched = false;
	bool first = true;
	while (k < plen && (p[k] != ']' || first)) {
		first = false;
		char lo = p[k], hi = lo;
		if (k + 2 < plen && p[k + 1] == '-' && p[k + 2] != ']') {
			hi = p[k + 2];
			k += 2;
		}
		if ((unsigned char)c >= (unsigned char)lo && (unsigned char)c <= (unsigned char)hi)
			matched = true;
		k++;
	}
	if (k >= plen) {
		*valid = false;
		return false;
	}
	*valid = true;
	*i = k + 1;
	return matched != negate;
}

bool glob_match(const char *p, size_t plen, const char *s, size_t slen)
{
	size_t pi = 0, si = 0;
	size_t star_p = (size_t)-1, star_s = 0;
	while (si < slen) {
		if (pi < plen) {
			char c = p[pi];
			if (c == '*') {
				star_p = ++pi;
				star_s = si;
				continue;
			}
			if (c == '?') {
				pi++;
				si++;
				continue;
			}
			if (c == '[') {
				size_t next = pi + 1;
				bool valid;
				bool ok = match_set(p, plen, &next, s[si], &valid);
				if (valid) {
					if (ok) {
						pi = next;
						si++;
						continue;
					}
				} else if (s[si] == '[') { /* a lone '[' is literal */
					pi++;
					si++;
					continue;
				}
			} else if (c == s[si]) {
				pi++;
				si++;
				continue;
			}
		}
		if (star_p == (size_t)-1)
			return false;
		pi = star_p;
		si = ++star_s;
	}
	while (pi < plen && p[pi] == '*')
		pi++;
	return pi == plen;
}
