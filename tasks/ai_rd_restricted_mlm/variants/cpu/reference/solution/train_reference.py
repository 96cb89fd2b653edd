"""How reference_model.pt was trained: the starting train.py's loop (same data, masking and loss) on this folder's
WindowModel. Run in $HOME/solution with this model.py in place: python3 train_reference.py --steps 1500"""
import model as reference
import train

train.m.BasicModel = reference.WindowModel
if __name__ == "__main__":
    train.main()
