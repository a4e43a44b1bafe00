# SYNTAX TEST "source.spindle" "a sample of every kind of token of Spindle assembly"
        .data
#       ^^^^^ keyword.control.directive.spindle
msg:    .asciz  "hi\n"          # a comment
# <--- entity.name.function.label.spindle
#  ^ punctuation.separator.label.spindle
#       ^^^^^^ keyword.control.directive.spindle
#               ^^^^^^ string.quoted.double.spindle
#                  ^^ constant.character.escape.spindle
#                               ^^^^^^^^^^^ comment.line.spindle
n:      .quad   0x7fff_ffff, 0b1010, 0o755, 1_000, -1
#               ^^^^^^^^^^^ constant.numeric.spindle
#                            ^^^^^^ constant.numeric.spindle
#                                    ^^^^^ constant.numeric.spindle
#                                           ^^^^^ constant.numeric.spindle
#                                                   ^ constant.numeric.spindle
        .equ    N, 100          ; a comment, after a semicolon
#       ^^^^ keyword.control.directive.spindle
#                               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ comment.line.spindle

        .text
main:   li      a0, 'A'
# <---- entity.name.function.label.spindle
#       ^^ keyword.other.instruction.spindle
#               ^^ variable.language.register.spindle
#                   ^^^ constant.character.spindle
.loop:  ADDI    r10, sp, -8     # mnemonics and registers in any case
# <----- entity.name.function.label.spindle
#       ^^^^ keyword.other.instruction.spindle
#               ^^^ variable.language.register.spindle
#                    ^^ variable.language.register.spindle
        la      a1, msg
#       ^^ keyword.other.instruction.spindle
#                   ^^^ - keyword.other.instruction.spindle
        syscall puts
#       ^^^^^^^ keyword.other.instruction.spindle
#               ^^^^ support.function.syscall.spindle
        bnez    t1, .loop
#       ^^^^ keyword.other.instruction.spindle
#               ^^ variable.language.register.spindle
#                   ^^^^^ - keyword.other.instruction.spindle
        li      a0, '\n'
#                   ^^^^ constant.character.spindle
        ld      t2, 0(t0)
#       ^^ keyword.other.instruction.spindle
#                   ^ constant.numeric.spindle
#                     ^^ variable.language.register.spindle
add:    ret                     # a label may be named like an instruction
# <--- entity.name.function.label.spindle
#       ^^^ keyword.other.instruction.spindle
