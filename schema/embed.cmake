# embed.cmake — turn a text file into a C array, so schema/*.sql has one copy.
# Usage: cmake -DIN=file.sql -DOUT=file.c -DNAME=symbol -P embed.cmake
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
file(WRITE "${OUT}" "/* generated from ${IN} by schema/embed.cmake; do not edit */\n"
  "const char ${NAME}[] = {${body}0x00};\n")
