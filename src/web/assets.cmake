# Included by CMakeLists.txt after detente_lib is defined: turns each file
# of src/web/assets/ into a byte array (web_asset_<name>, NUL-terminated) in
# ${CMAKE_BINARY_DIR}/generated/web_assets.inc, which src/web/web.c
# includes. Runs at configure time; every asset is a configure dependency,
# so editing one re-runs this step on the next build. CMake only: no xxd.
set(WEB_ASSETS index.html style.css app.js)
set(web_inc "/* generated from src/web/assets/ by src/web/assets.cmake: do not edit */\n")
foreach(asset ${WEB_ASSETS})
    set(path ${CMAKE_SOURCE_DIR}/src/web/assets/${asset})
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${path})
    file(READ ${path} hex HEX)
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
    string(REGEX REPLACE "((0x..,){24})" "\\1\n" hex "${hex}")
    string(MAKE_C_IDENTIFIER ${asset} name)
    string(APPEND web_inc "static const unsigned char web_asset_${name}[] = {\n${hex}0x00};\n")
endforeach()
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/generated/web_assets.inc CONTENT "${web_inc}" @ONLY)
target_include_directories(detente_lib PRIVATE ${CMAKE_BINARY_DIR}/generated)
