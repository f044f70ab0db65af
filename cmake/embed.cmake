# Turns a binary file into a C array: cmake -DIN=f -DOUT=f.c -DSYM=name -P embed.cmake
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" hexlen)
math(EXPR n "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
file(WRITE "${OUT}" "#include <stddef.h>\nconst unsigned char ${SYM}[] = {\n${body}\n};\n"
  "const size_t ${SYM}_len = ${n};\n")
