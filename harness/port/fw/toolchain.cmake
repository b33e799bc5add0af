# Toolchain file of the port kit's bare-metal images (harness/port/fw),
# chosen by -DECP_FW_TARGET:
#   cortex-m3  arm-none-eabi-gcc, -mcpu=cortex-m3   qemu-system-arm -M mps2-an385
#   cortex-m4  arm-none-eabi-gcc, -mcpu=cortex-m4   qemu-system-arm -M mps2-an386
#   rv32       riscv64-unknown-elf-gcc, rv32imac     qemu-system-riscv32 -M virt
# C library: picolibc (Debian picolibc-arm-none-eabi /
# picolibc-riscv64-unknown-elf), stdio and exit over semihosting.
# Memory map given to picolibc.ld: the board's code memory ("flash") and
# its data RAM.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(ECP_FW_TARGET "cortex-m3" CACHE STRING "cortex-m3, cortex-m4 or rv32")
set(ECP_FW_OPT "-Os" CACHE STRING "optimisation flags of the images")

if(ECP_FW_TARGET STREQUAL "cortex-m3" OR ECP_FW_TARGET STREQUAL "cortex-m4")
  set(CMAKE_SYSTEM_PROCESSOR arm)
  set(CMAKE_C_COMPILER arm-none-eabi-gcc)
  set(arch "-mcpu=${ECP_FW_TARGET} -mthumb")
  # MPS2 AN385/AN386: 4 MiB SSRAM1 at 0 (code), 4 MiB SSRAM2/3 at 0x20000000.
  set(mem "-Wl,--defsym=__flash=0x00000000 -Wl,--defsym=__flash_size=0x00400000 -Wl,--defsym=__ram=0x20000000 -Wl,--defsym=__ram_size=0x00400000")
elseif(ECP_FW_TARGET STREQUAL "rv32")
  set(CMAKE_SYSTEM_PROCESSOR riscv32)
  set(CMAKE_C_COMPILER riscv64-unknown-elf-gcc)
  # The ESP32-C3 core is RV32IMC; picolibc's nearest multilib is rv32imac.
  set(arch "-march=rv32imac -mabi=ilp32 -mcmodel=medany")
  # virt: RAM at 0x80000000; the image is loaded there by -kernel.
  set(mem "-Wl,--defsym=__flash=0x80000000 -Wl,--defsym=__flash_size=0x01000000 -Wl,--defsym=__ram=0x81000000 -Wl,--defsym=__ram_size=0x01000000")
else()
  message(FATAL_ERROR "ECP_FW_TARGET=${ECP_FW_TARGET}: not cortex-m3, cortex-m4 or rv32")
endif()

# A 16 KiB stack region (picolibc's default is 2 KiB): room to measure the
# self-test's peak by painting it (board_qemu.c) rather than overflow it.
string(APPEND mem " -Wl,--defsym=__stack_size=0x4000")

set(CMAKE_C_FLAGS_INIT "${arch} --specs=picolibc.specs -ffunction-sections -fdata-sections")
set(CMAKE_C_FLAGS_RELEASE_INIT "${ECP_FW_OPT}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "--oslib=semihost --crt0=semihost -T picolibc.ld -Wl,--gc-sections ${mem}")
set(CMAKE_BUILD_TYPE Release CACHE STRING "")
