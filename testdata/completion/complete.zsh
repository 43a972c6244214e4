#!/bin/zsh -f
# complete.zsh FPATH_DIR LINE: prints the completions zsh offers for LINE,
# the cursor at its end, in an interactive zsh on a pseudo-terminal with
# compinit and FPATH_DIR first in $fpath (zsh's own git completion calls
# _git-dbsync for "git dbsync"). Every candidate given to compadd is
# printed as "hit:<candidate>".
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "fpath=($1 \$fpath); PROMPT=''; autoload -Uz compinit; compinit -u -D"
zpty -w z 'zstyle ":completion:*" list-grouped false; zstyle ":completion:*" insert-tab false'
zpty -w z 'compadd () {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi
  typeset -a __hits; builtin compadd -A __hits "$@"; local ret=$?
  (( $#__hits )) && print -r -l -- "" "${(L):-HIT}:"${^__hits}
  return ret
}'
zpty -w z 'bindkey "^I" complete-word; comppostfuncs=( finish ); finish () { print ${(U):-end}END; builtin exit }'
zpty -w z "$2"$'\t'
zpty -r z out '*ENDEND*'
print -r -- "$out" | tr -d '\r' | sed -n 's/^hit://p'
