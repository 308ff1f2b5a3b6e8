# Warnings (and optional sanitizers) for aecl's own targets.
function(aecl_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wstrict-prototypes
                         -Wno-unused-parameter -Wno-deprecated-declarations)
  if(AECL_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

if(AECL_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
