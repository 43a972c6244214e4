#!/bin/bash
# complete.bash LINE: prints the completions bash offers for LINE, the
# cursor at its end, through bash-completion as an interactive shell loads
# it: git's completion for "git …", which loads git-dbsync's by name from
# $BASH_COMPLETION_USER_DIR/completions when "git dbsync" is completed.
source /usr/share/bash-completion/bash_completion
COMP_LINE="$1"
COMP_POINT=${#COMP_LINE}
eval "COMP_WORDS=($COMP_LINE)"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
__load_completion "${COMP_WORDS[0]}"
spec=$(complete -p "${COMP_WORDS[0]}") || exit 1
func=${spec##*-F }
func=${func%% *}
# compopt complains outside a real completion: not what is tested.
"$func" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>/dev/null
printf '%s\n' "${COMPREPLY[@]}"
